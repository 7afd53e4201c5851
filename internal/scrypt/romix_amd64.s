//go:build amd64 && !purego

#include "textflag.h"

// BlockMix of scrypt (RFC 7914, section 4) with salsa20/8, on blocks held in the
// shuffled-diagonal order (see doc.go):
//   X0 = x0 x5 x10 x15   X1 = x12 x1 x6 x11   X2 = x8 x13 x2 x7   X3 = x4 x9 x14 x3
// A column round is then, lane by lane,
//   X3 ^= (X0+X1) <<< 7;  X2 ^= (X3+X0) <<< 9;  X1 ^= (X2+X3) <<< 13;  X0 ^= (X1+X2) <<< 18
// and, after rotating the lanes of X1, X2 and X3 by one, two and three places, a row round
// is the same four steps with X1 and X3 swapping roles. X4-X7 keep the round's input for
// the final addition; X8 and X9 are scratch.
//
// Arguments: out, in, v *uint32, r int, xor int. The input is in (xor = 0) or in XOR v
// (xor = 1), 2r blocks of 64 bytes; the output Y0..Y(2r-1) goes to out as
// Y0 Y2 ... Y(2r-2) Y1 Y3 ... Y(2r-1).

// SSE2: a += b, rotated, XORed into d: d ^= (a+b) <<< s
#define QR_SSE2(a, b, d, s) \
	MOVO a, X8 \
	PADDL b, X8 \
	MOVO X8, X9 \
	PSLLL $s, X8 \
	PSRLL $(32-s), X9 \
	PXOR X8, d \
	PXOR X9, d

#define DOUBLEROUND_SSE2 \
	QR_SSE2(X0, X1, X3, 7) \
	QR_SSE2(X3, X0, X2, 9) \
	QR_SSE2(X2, X3, X1, 13) \
	QR_SSE2(X1, X2, X0, 18) \
	PSHUFL $0x93, X3, X3 \
	PSHUFL $0x4e, X2, X2 \
	PSHUFL $0x39, X1, X1 \
	QR_SSE2(X0, X3, X1, 7) \
	QR_SSE2(X1, X0, X2, 9) \
	QR_SSE2(X2, X1, X3, 13) \
	QR_SSE2(X3, X2, X0, 18) \
	PSHUFL $0x93, X1, X1 \
	PSHUFL $0x4e, X2, X2 \
	PSHUFL $0x39, X3, X3

// AVX-512 (AVX512VL forms on 128-bit registers): one VPROLD for the rotation
#define QR_AVX512(a, b, d, s) \
	VPADDD b, a, X8 \
	VPROLD $s, X8, X8 \
	VPXORD X8, d, d

#define DOUBLEROUND_AVX512 \
	QR_AVX512(X0, X1, X3, 7) \
	QR_AVX512(X3, X0, X2, 9) \
	QR_AVX512(X2, X3, X1, 13) \
	QR_AVX512(X1, X2, X0, 18) \
	VPSHUFD $0x93, X3, X3 \
	VPSHUFD $0x4e, X2, X2 \
	VPSHUFD $0x39, X1, X1 \
	QR_AVX512(X0, X3, X1, 7) \
	QR_AVX512(X1, X0, X2, 9) \
	QR_AVX512(X2, X1, X3, 13) \
	QR_AVX512(X3, X2, X0, 18) \
	VPSHUFD $0x93, X1, X1 \
	VPSHUFD $0x4e, X2, X2 \
	VPSHUFD $0x39, X3, X3

// X0..X3 ^= the 64 bytes at off(SI), and at off(R8) when xor is set (R9 != 0)
#define LOADXOR_SSE2(off) \
	MOVOU off(SI), X4 \
	MOVOU off+16(SI), X5 \
	MOVOU off+32(SI), X6 \
	MOVOU off+48(SI), X7 \
	PXOR X4, X0 \
	PXOR X5, X1 \
	PXOR X6, X2 \
	PXOR X7, X3

#define LOADXOR_V_SSE2(off) \
	MOVOU off(R8), X4 \
	MOVOU off+16(R8), X5 \
	MOVOU off+32(R8), X6 \
	MOVOU off+48(R8), X7 \
	PXOR X4, X0 \
	PXOR X5, X1 \
	PXOR X6, X2 \
	PXOR X7, X3

#define SALSA8_SSE2 \
	MOVO X0, X4 \
	MOVO X1, X5 \
	MOVO X2, X6 \
	MOVO X3, X7 \
	DOUBLEROUND_SSE2 \
	DOUBLEROUND_SSE2 \
	DOUBLEROUND_SSE2 \
	DOUBLEROUND_SSE2 \
	PADDL X4, X0 \
	PADDL X5, X1 \
	PADDL X6, X2 \
	PADDL X7, X3

#define STORE_SSE2(reg) \
	MOVOU X0, (reg) \
	MOVOU X1, 16(reg) \
	MOVOU X2, 32(reg) \
	MOVOU X3, 48(reg)

// func blockMixSSE2(out, in, v *uint32, r int, xor int)
TEXT ·blockMixSSE2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ v+16(FP), R8
	MOVQ r+24(FP), CX
	MOVQ xor+32(FP), R9
	MOVQ CX, AX
	SHLQ $7, AX              // 128*r: bytes of 2r blocks
	MOVQ CX, BX
	SHLQ $6, BX
	ADDQ DI, BX              // BX: where the odd outputs go, out + 64*r
	// X = the last input block
	MOVOU -64(SI)(AX*1), X0
	MOVOU -48(SI)(AX*1), X1
	MOVOU -32(SI)(AX*1), X2
	MOVOU -16(SI)(AX*1), X3
	TESTQ R9, R9
	JZ    sse2loop
	MOVOU -64(R8)(AX*1), X4
	MOVOU -48(R8)(AX*1), X5
	MOVOU -32(R8)(AX*1), X6
	MOVOU -16(R8)(AX*1), X7
	PXOR  X4, X0
	PXOR  X5, X1
	PXOR  X6, X2
	PXOR  X7, X3

sse2loop:
	LOADXOR_SSE2(0)
	TESTQ R9, R9
	JZ    sse2even
	LOADXOR_V_SSE2(0)

sse2even:
	SALSA8_SSE2
	STORE_SSE2(DI)
	LOADXOR_SSE2(64)
	TESTQ R9, R9
	JZ    sse2odd
	LOADXOR_V_SSE2(64)

sse2odd:
	SALSA8_SSE2
	STORE_SSE2(BX)
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $64, DI
	ADDQ $64, BX
	DECQ CX
	JNZ  sse2loop
	RET

#define LOADXOR_AVX(off) \
	VPXOR off(SI), X0, X0 \
	VPXOR off+16(SI), X1, X1 \
	VPXOR off+32(SI), X2, X2 \
	VPXOR off+48(SI), X3, X3

#define LOADXOR_V_AVX(off) \
	VPXOR off(R8), X0, X0 \
	VPXOR off+16(R8), X1, X1 \
	VPXOR off+32(R8), X2, X2 \
	VPXOR off+48(R8), X3, X3

#define SALSA8_AVX512 \
	VMOVDQA X0, X4 \
	VMOVDQA X1, X5 \
	VMOVDQA X2, X6 \
	VMOVDQA X3, X7 \
	DOUBLEROUND_AVX512 \
	DOUBLEROUND_AVX512 \
	DOUBLEROUND_AVX512 \
	DOUBLEROUND_AVX512 \
	VPADDD X4, X0, X0 \
	VPADDD X5, X1, X1 \
	VPADDD X6, X2, X2 \
	VPADDD X7, X3, X3

#define STORE_AVX(reg) \
	VMOVDQU X0, (reg) \
	VMOVDQU X1, 16(reg) \
	VMOVDQU X2, 32(reg) \
	VMOVDQU X3, 48(reg)

// func blockMixAVX512(out, in, v *uint32, r int, xor int)
TEXT ·blockMixAVX512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ v+16(FP), R8
	MOVQ r+24(FP), CX
	MOVQ xor+32(FP), R9
	MOVQ CX, AX
	SHLQ $7, AX
	MOVQ CX, BX
	SHLQ $6, BX
	ADDQ DI, BX
	VMOVDQU -64(SI)(AX*1), X0
	VMOVDQU -48(SI)(AX*1), X1
	VMOVDQU -32(SI)(AX*1), X2
	VMOVDQU -16(SI)(AX*1), X3
	TESTQ   R9, R9
	JZ      avxloop
	VPXOR   -64(R8)(AX*1), X0, X0
	VPXOR   -48(R8)(AX*1), X1, X1
	VPXOR   -32(R8)(AX*1), X2, X2
	VPXOR   -16(R8)(AX*1), X3, X3

avxloop:
	LOADXOR_AVX(0)
	TESTQ R9, R9
	JZ    avxeven
	LOADXOR_V_AVX(0)

avxeven:
	SALSA8_AVX512
	STORE_AVX(DI)
	LOADXOR_AVX(64)
	TESTQ R9, R9
	JZ    avxodd
	LOADXOR_V_AVX(64)

avxodd:
	SALSA8_AVX512
	STORE_AVX(BX)
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $64, DI
	ADDQ $64, BX
	DECQ CX
	JNZ  avxloop
	VZEROUPPER
	RET
