//go:build amd64 && !purego

#include "textflag.h"

// SHA-256 with the SHA extensions (SHA-NI), one lane (blockx1) or two independent lanes
// interleaved (blockx2). A lane's state is kept as ABEF and CDGH in two registers, the
// order SHA256RNDS2 wants; each group of four rounds adds four message words and their
// constants in X0 (SHA256RNDS2's implicit operand), runs two rounds, moves the upper two
// words down and runs two more. The message schedule for rounds 16-63 keeps the last
// four groups of words in four registers, overwritten in turn.
//
// Registers: X0 words plus constants (and the schedule's temporary), X15 the byte swap
// of each word (SHA-256 reads big-endian words); lane A: X1 ABEF, X2 CDGH, X3-X6 words;
// lane B: X7 ABEF, X8 CDGH, X9-X12 words. The states at a block's start wait on the
// stack. AX the constants, SI and DI the lanes' data, CX the blocks left.

// LOADW: the four words of group off/16 of the block at P, byte-swapped, into W.
#define LOADW(off, P, W) \
	MOVOU off(P), W; \
	PSHUFB X15, W

// SCHED: the next four words into W (which holds the words of four groups back) from
// the three groups after it (W3 oldest, W1 newest).
#define SCHED(W, W3, W2, W1) \
	SHA256MSG1 W3, W; \
	MOVO W1, X0; \
	PALIGNR $4, W2, X0; \
	PADDD X0, W; \
	SHA256MSG2 W1, W

// RND4: four rounds of the state S0 (ABEF), S1 (CDGH) with the words W and the
// constants at koff(AX).
#define RND4(W, koff, S0, S1) \
	MOVOU koff(AX), X0; \
	PADDD W, X0; \
	SHA256RNDS2 X0, S0, S1; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, S1, S0

// LOADSTATE: h[0..7] at R into S0 (ABEF) and S1 (CDGH).
#define LOADSTATE(R, S0, S1) \
	MOVOU (R), S0; \
	MOVOU 16(R), S1; \
	PSHUFD $0xb1, S0, S0; \
	PSHUFD $0x1b, S1, S1; \
	MOVO S0, X0; \
	PALIGNR $8, S1, S0; \
	PBLENDW $0xf0, X0, S1

// STORESTATE: S0 (ABEF) and S1 (CDGH) back to h[0..7] at R.
#define STORESTATE(R, S0, S1) \
	PSHUFD $0x1b, S0, S0; \
	PSHUFD $0xb1, S1, S1; \
	MOVO S0, X0; \
	PBLENDW $0xf0, S1, S0; \
	PALIGNR $8, X0, S1; \
	MOVOU S0, (R); \
	MOVOU S1, 16(R)

// ADDSAVED: the state saved at off(SP) added to S.
#define ADDSAVED(off, S) \
	MOVOU off(SP), X0; \
	PADDD X0, S

// func blockx1(h *[8]uint32, p *byte, n int)
TEXT ·blockx1(SB), NOSPLIT, $32-24
	MOVQ h+0(FP), BX
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ done1
	LEAQ k256<>(SB), AX
	MOVOU flip<>(SB), X15
	LOADSTATE(BX, X1, X2)

loop1:
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	LOADW(0, SI, X3)
	RND4(X3, 0, X1, X2)
	LOADW(16, SI, X4)
	RND4(X4, 16, X1, X2)
	LOADW(32, SI, X5)
	RND4(X5, 32, X1, X2)
	LOADW(48, SI, X6)
	RND4(X6, 48, X1, X2)
	SCHED(X3, X4, X5, X6)
	RND4(X3, 64, X1, X2)
	SCHED(X4, X5, X6, X3)
	RND4(X4, 80, X1, X2)
	SCHED(X5, X6, X3, X4)
	RND4(X5, 96, X1, X2)
	SCHED(X6, X3, X4, X5)
	RND4(X6, 112, X1, X2)
	SCHED(X3, X4, X5, X6)
	RND4(X3, 128, X1, X2)
	SCHED(X4, X5, X6, X3)
	RND4(X4, 144, X1, X2)
	SCHED(X5, X6, X3, X4)
	RND4(X5, 160, X1, X2)
	SCHED(X6, X3, X4, X5)
	RND4(X6, 176, X1, X2)
	SCHED(X3, X4, X5, X6)
	RND4(X3, 192, X1, X2)
	SCHED(X4, X5, X6, X3)
	RND4(X4, 208, X1, X2)
	SCHED(X5, X6, X3, X4)
	RND4(X5, 224, X1, X2)
	SCHED(X6, X3, X4, X5)
	RND4(X6, 240, X1, X2)
	ADDSAVED(0, X1)
	ADDSAVED(16, X2)
	ADDQ $64, SI
	DECQ CX
	JNZ loop1

	STORESTATE(BX, X1, X2)

done1:
	RET

// func blockx2(ha, hb *[8]uint32, pa, pb *byte, n int)
//
// The two lanes' groups alternate, so that each lane's rounds run while the other's
// wait on SHA256RNDS2's latency.
TEXT ·blockx2(SB), NOSPLIT, $64-40
	MOVQ ha+0(FP), BX
	MOVQ hb+8(FP), DX
	MOVQ pa+16(FP), SI
	MOVQ pb+24(FP), DI
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ done2
	LEAQ k256<>(SB), AX
	MOVOU flip<>(SB), X15
	LOADSTATE(BX, X1, X2)
	LOADSTATE(DX, X7, X8)

loop2:
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	MOVOU X7, 32(SP)
	MOVOU X8, 48(SP)
	LOADW(0, SI, X3)
	RND4(X3, 0, X1, X2)
	LOADW(0, DI, X9)
	RND4(X9, 0, X7, X8)
	LOADW(16, SI, X4)
	RND4(X4, 16, X1, X2)
	LOADW(16, DI, X10)
	RND4(X10, 16, X7, X8)
	LOADW(32, SI, X5)
	RND4(X5, 32, X1, X2)
	LOADW(32, DI, X11)
	RND4(X11, 32, X7, X8)
	LOADW(48, SI, X6)
	RND4(X6, 48, X1, X2)
	LOADW(48, DI, X12)
	RND4(X12, 48, X7, X8)
	SCHED(X3, X4, X5, X6)
	RND4(X3, 64, X1, X2)
	SCHED(X9, X10, X11, X12)
	RND4(X9, 64, X7, X8)
	SCHED(X4, X5, X6, X3)
	RND4(X4, 80, X1, X2)
	SCHED(X10, X11, X12, X9)
	RND4(X10, 80, X7, X8)
	SCHED(X5, X6, X3, X4)
	RND4(X5, 96, X1, X2)
	SCHED(X11, X12, X9, X10)
	RND4(X11, 96, X7, X8)
	SCHED(X6, X3, X4, X5)
	RND4(X6, 112, X1, X2)
	SCHED(X12, X9, X10, X11)
	RND4(X12, 112, X7, X8)
	SCHED(X3, X4, X5, X6)
	RND4(X3, 128, X1, X2)
	SCHED(X9, X10, X11, X12)
	RND4(X9, 128, X7, X8)
	SCHED(X4, X5, X6, X3)
	RND4(X4, 144, X1, X2)
	SCHED(X10, X11, X12, X9)
	RND4(X10, 144, X7, X8)
	SCHED(X5, X6, X3, X4)
	RND4(X5, 160, X1, X2)
	SCHED(X11, X12, X9, X10)
	RND4(X11, 160, X7, X8)
	SCHED(X6, X3, X4, X5)
	RND4(X6, 176, X1, X2)
	SCHED(X12, X9, X10, X11)
	RND4(X12, 176, X7, X8)
	SCHED(X3, X4, X5, X6)
	RND4(X3, 192, X1, X2)
	SCHED(X9, X10, X11, X12)
	RND4(X9, 192, X7, X8)
	SCHED(X4, X5, X6, X3)
	RND4(X4, 208, X1, X2)
	SCHED(X10, X11, X12, X9)
	RND4(X10, 208, X7, X8)
	SCHED(X5, X6, X3, X4)
	RND4(X5, 224, X1, X2)
	SCHED(X11, X12, X9, X10)
	RND4(X11, 224, X7, X8)
	SCHED(X6, X3, X4, X5)
	RND4(X6, 240, X1, X2)
	SCHED(X12, X9, X10, X11)
	RND4(X12, 240, X7, X8)
	ADDSAVED(0, X1)
	ADDSAVED(16, X2)
	ADDSAVED(32, X7)
	ADDSAVED(48, X8)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop2

	STORESTATE(BX, X1, X2)
	STORESTATE(DX, X7, X8)

done2:
	RET

// flip swaps the bytes of each 32-bit word.
DATA flip<>+0(SB)/8, $0x0405060700010203
DATA flip<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL flip<>(SB), RODATA|NOPTR, $16

// k256: SHA-256's 64 round constants (FIPS 180-4, 4.2.2), four to a group of rounds.
DATA k256<>+0(SB)/8, $0x71374491428a2f98
DATA k256<>+8(SB)/8, $0xe9b5dba5b5c0fbcf
DATA k256<>+16(SB)/8, $0x59f111f13956c25b
DATA k256<>+24(SB)/8, $0xab1c5ed5923f82a4
DATA k256<>+32(SB)/8, $0x12835b01d807aa98
DATA k256<>+40(SB)/8, $0x550c7dc3243185be
DATA k256<>+48(SB)/8, $0x80deb1fe72be5d74
DATA k256<>+56(SB)/8, $0xc19bf1749bdc06a7
DATA k256<>+64(SB)/8, $0xefbe4786e49b69c1
DATA k256<>+72(SB)/8, $0x240ca1cc0fc19dc6
DATA k256<>+80(SB)/8, $0x4a7484aa2de92c6f
DATA k256<>+88(SB)/8, $0x76f988da5cb0a9dc
DATA k256<>+96(SB)/8, $0xa831c66d983e5152
DATA k256<>+104(SB)/8, $0xbf597fc7b00327c8
DATA k256<>+112(SB)/8, $0xd5a79147c6e00bf3
DATA k256<>+120(SB)/8, $0x1429296706ca6351
DATA k256<>+128(SB)/8, $0x2e1b213827b70a85
DATA k256<>+136(SB)/8, $0x53380d134d2c6dfc
DATA k256<>+144(SB)/8, $0x766a0abb650a7354
DATA k256<>+152(SB)/8, $0x92722c8581c2c92e
DATA k256<>+160(SB)/8, $0xa81a664ba2bfe8a1
DATA k256<>+168(SB)/8, $0xc76c51a3c24b8b70
DATA k256<>+176(SB)/8, $0xd6990624d192e819
DATA k256<>+184(SB)/8, $0x106aa070f40e3585
DATA k256<>+192(SB)/8, $0x1e376c0819a4c116
DATA k256<>+200(SB)/8, $0x34b0bcb52748774c
DATA k256<>+208(SB)/8, $0x4ed8aa4a391c0cb3
DATA k256<>+216(SB)/8, $0x682e6ff35b9cca4f
DATA k256<>+224(SB)/8, $0x78a5636f748f82ee
DATA k256<>+232(SB)/8, $0x8cc7020884c87814
DATA k256<>+240(SB)/8, $0xa4506ceb90befffa
DATA k256<>+248(SB)/8, $0xc67178f2bef9a3f7
GLOBL k256<>(SB), RODATA|NOPTR, $256

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET
