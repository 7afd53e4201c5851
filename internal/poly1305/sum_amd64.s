//go:build amd64 && !purego

#include "textflag.h"

// Offsets in vecKey: r^4's limbs, 5 x limbs 1-4, mask, 2^128 bit; 32 bytes each.
#define R0 0(BX)
#define R1 32(BX)
#define R2 64(BX)
#define R3 96(BX)
#define R4 128(BX)
#define S1 160(BX)
#define S2 192(BX)
#define S3 224(BX)
#define S4 256(BX)

// func blocksAVX2(acc *[40]uint64, vk *[88]uint64, m *byte, n int)
//
// Y0-Y4: the four accumulators (limb i of lane l in Y(i), 64-bit slot l);
// Y5-Y9: the products; Y10-Y13: temporaries; Y14: 1<<24 (2^128 of a block);
// Y15: 2^26-1.
TEXT ·blocksAVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), AX
	MOVQ vk+8(FP), BX
	MOVQ m+16(FP), SI
	MOVQ n+24(FP), CX
	VMOVDQU 0(AX), Y0
	VMOVDQU 32(AX), Y1
	VMOVDQU 64(AX), Y2
	VMOVDQU 96(AX), Y3
	VMOVDQU 128(AX), Y4
	VMOVDQU 288(BX), Y15
	VMOVDQU 320(BX), Y14

loop:
	// The next four blocks, as 64-bit halves: Y12 = low halves, Y13 = high halves,
	// in the lane order of blocks 0, 2, 1, 3 (unpack works within 128-bit lanes).
	VMOVDQU 0(SI), Y10
	VMOVDQU 32(SI), Y11
	VPUNPCKLQDQ Y11, Y10, Y12
	VPUNPCKHQDQ Y11, Y10, Y13

	// d = a * r^4 (d0 = a0 r0 + 5 (a1 r4 + a2 r3 + a3 r2 + a4 r1), ...)
	VPMULUDQ R0, Y0, Y5
	VPMULUDQ R1, Y0, Y6
	VPMULUDQ R2, Y0, Y7
	VPMULUDQ R3, Y0, Y8
	VPMULUDQ R4, Y0, Y9

	VPMULUDQ S4, Y1, Y10
	VPADDQ   Y10, Y5, Y5
	VPMULUDQ R0, Y1, Y11
	VPADDQ   Y11, Y6, Y6
	VPMULUDQ R1, Y1, Y10
	VPADDQ   Y10, Y7, Y7
	VPMULUDQ R2, Y1, Y11
	VPADDQ   Y11, Y8, Y8
	VPMULUDQ R3, Y1, Y10
	VPADDQ   Y10, Y9, Y9

	VPMULUDQ S3, Y2, Y11
	VPADDQ   Y11, Y5, Y5
	VPMULUDQ S4, Y2, Y10
	VPADDQ   Y10, Y6, Y6
	VPMULUDQ R0, Y2, Y11
	VPADDQ   Y11, Y7, Y7
	VPMULUDQ R1, Y2, Y10
	VPADDQ   Y10, Y8, Y8
	VPMULUDQ R2, Y2, Y11
	VPADDQ   Y11, Y9, Y9

	VPMULUDQ S2, Y3, Y10
	VPADDQ   Y10, Y5, Y5
	VPMULUDQ S3, Y3, Y11
	VPADDQ   Y11, Y6, Y6
	VPMULUDQ S4, Y3, Y10
	VPADDQ   Y10, Y7, Y7
	VPMULUDQ R0, Y3, Y11
	VPADDQ   Y11, Y8, Y8
	VPMULUDQ R1, Y3, Y10
	VPADDQ   Y10, Y9, Y9

	VPMULUDQ S1, Y4, Y11
	VPADDQ   Y11, Y5, Y5
	VPMULUDQ S2, Y4, Y10
	VPADDQ   Y10, Y6, Y6
	VPMULUDQ S3, Y4, Y11
	VPADDQ   Y11, Y7, Y7
	VPMULUDQ S4, Y4, Y10
	VPADDQ   Y10, Y8, Y8
	VPMULUDQ R0, Y4, Y11
	VPADDQ   Y11, Y9, Y9

	// d += the blocks' limbs: lo & M, lo>>26 & M, (lo>>52 | hi<<12) & M,
	// hi>>14 & M, hi>>40 | 1<<24.
	VPAND   Y15, Y12, Y10
	VPADDQ  Y10, Y5, Y5
	VPSRLQ  $26, Y12, Y11
	VPAND   Y15, Y11, Y11
	VPADDQ  Y11, Y6, Y6
	VPSRLQ  $52, Y12, Y10
	VPSLLQ  $12, Y13, Y11
	VPOR    Y11, Y10, Y10
	VPAND   Y15, Y10, Y10
	VPADDQ  Y10, Y7, Y7
	VPSRLQ  $14, Y13, Y11
	VPAND   Y15, Y11, Y11
	VPADDQ  Y11, Y8, Y8
	VPSRLQ  $40, Y13, Y10
	VPOR    Y14, Y10, Y10
	VPADDQ  Y10, Y9, Y9

	// Carry, two chains at once (d3 -> d4 -> d0 and d0 -> d1 -> d2 -> d3), d4's
	// carry times 5 into d0: limbs end below 2^26 but for a1 and a4 (a few bits more).
	VPSRLQ $26, Y8, Y10
	VPAND  Y15, Y8, Y8
	VPADDQ Y10, Y9, Y9
	VPSRLQ $26, Y5, Y11
	VPAND  Y15, Y5, Y0
	VPADDQ Y11, Y6, Y6
	VPSRLQ $26, Y9, Y10
	VPAND  Y15, Y9, Y4
	VPSLLQ $2, Y10, Y12
	VPADDQ Y12, Y10, Y10
	VPADDQ Y10, Y0, Y0
	VPSRLQ $26, Y6, Y11
	VPAND  Y15, Y6, Y1
	VPADDQ Y11, Y7, Y7
	VPSRLQ $26, Y7, Y11
	VPAND  Y15, Y7, Y2
	VPADDQ Y11, Y8, Y8
	VPSRLQ $26, Y0, Y10
	VPAND  Y15, Y0, Y0
	VPADDQ Y10, Y1, Y1
	VPSRLQ $26, Y8, Y11
	VPAND  Y15, Y8, Y3
	VPADDQ Y11, Y4, Y4

	ADDQ $64, SI
	DECQ CX
	JNZ  loop

	VMOVDQU Y0, 0(AX)
	VMOVDQU Y1, 32(AX)
	VMOVDQU Y2, 64(AX)
	VMOVDQU Y3, 96(AX)
	VMOVDQU Y4, 128(AX)
	VZEROUPPER
	RET

// The same rows in vecKey for eight lanes: 64 bytes each.
#define ZR0 0(BX)
#define ZR1 64(BX)
#define ZR2 128(BX)
#define ZR3 192(BX)
#define ZR4 256(BX)
#define ZS1 320(BX)
#define ZS2 384(BX)
#define ZS3 448(BX)
#define ZS4 512(BX)

// func blocksAVX512(acc *[40]uint64, vk *[88]uint64, m *byte, n int)
//
// blocksAVX2 with eight lanes in Z registers (128 bytes a step, r^8).
//
// Z0-Z4: the eight accumulators (limb i of lane l in Z(i), 64-bit slot l);
// Z5-Z9: the products; Z10-Z13: temporaries; Z14: 1<<24 (2^128 of a block);
// Z15: 2^26-1.
TEXT ·blocksAVX512(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), AX
	MOVQ vk+8(FP), BX
	MOVQ m+16(FP), SI
	MOVQ n+24(FP), CX
	VMOVDQU64 0(AX), Z0
	VMOVDQU64 64(AX), Z1
	VMOVDQU64 128(AX), Z2
	VMOVDQU64 192(AX), Z3
	VMOVDQU64 256(AX), Z4
	VMOVDQU64 576(BX), Z15
	VMOVDQU64 640(BX), Z14

loop:
	// The next eight blocks, as 64-bit halves: Z12 = low halves, Z13 = high halves,
	// in the lane order of blocks 0 4 1 5 2 6 3 7 (unpack works within 128-bit lanes).
	VMOVDQU64 0(SI), Z10
	VMOVDQU64 64(SI), Z11
	VPUNPCKLQDQ Z11, Z10, Z12
	VPUNPCKHQDQ Z11, Z10, Z13

	// d = a * r^8 (d0 = a0 r0 + 5 (a1 r4 + a2 r3 + a3 r2 + a4 r1), ...)
	VPMULUDQ ZR0, Z0, Z5
	VPMULUDQ ZR1, Z0, Z6
	VPMULUDQ ZR2, Z0, Z7
	VPMULUDQ ZR3, Z0, Z8
	VPMULUDQ ZR4, Z0, Z9

	VPMULUDQ ZS4, Z1, Z10
	VPADDQ   Z10, Z5, Z5
	VPMULUDQ ZR0, Z1, Z11
	VPADDQ   Z11, Z6, Z6
	VPMULUDQ ZR1, Z1, Z10
	VPADDQ   Z10, Z7, Z7
	VPMULUDQ ZR2, Z1, Z11
	VPADDQ   Z11, Z8, Z8
	VPMULUDQ ZR3, Z1, Z10
	VPADDQ   Z10, Z9, Z9

	VPMULUDQ ZS3, Z2, Z11
	VPADDQ   Z11, Z5, Z5
	VPMULUDQ ZS4, Z2, Z10
	VPADDQ   Z10, Z6, Z6
	VPMULUDQ ZR0, Z2, Z11
	VPADDQ   Z11, Z7, Z7
	VPMULUDQ ZR1, Z2, Z10
	VPADDQ   Z10, Z8, Z8
	VPMULUDQ ZR2, Z2, Z11
	VPADDQ   Z11, Z9, Z9

	VPMULUDQ ZS2, Z3, Z10
	VPADDQ   Z10, Z5, Z5
	VPMULUDQ ZS3, Z3, Z11
	VPADDQ   Z11, Z6, Z6
	VPMULUDQ ZS4, Z3, Z10
	VPADDQ   Z10, Z7, Z7
	VPMULUDQ ZR0, Z3, Z11
	VPADDQ   Z11, Z8, Z8
	VPMULUDQ ZR1, Z3, Z10
	VPADDQ   Z10, Z9, Z9

	VPMULUDQ ZS1, Z4, Z11
	VPADDQ   Z11, Z5, Z5
	VPMULUDQ ZS2, Z4, Z10
	VPADDQ   Z10, Z6, Z6
	VPMULUDQ ZS3, Z4, Z11
	VPADDQ   Z11, Z7, Z7
	VPMULUDQ ZS4, Z4, Z10
	VPADDQ   Z10, Z8, Z8
	VPMULUDQ ZR0, Z4, Z11
	VPADDQ   Z11, Z9, Z9

	// d += the blocks' limbs: lo & M, lo>>26 & M, (lo>>52 | hi<<12) & M,
	// hi>>14 & M, hi>>40 | 1<<24.
	VPANDQ  Z15, Z12, Z10
	VPADDQ  Z10, Z5, Z5
	VPSRLQ  $26, Z12, Z11
	VPANDQ  Z15, Z11, Z11
	VPADDQ  Z11, Z6, Z6
	VPSRLQ  $52, Z12, Z10
	VPSLLQ  $12, Z13, Z11
	VPORQ   Z11, Z10, Z10
	VPANDQ  Z15, Z10, Z10
	VPADDQ  Z10, Z7, Z7
	VPSRLQ  $14, Z13, Z11
	VPANDQ  Z15, Z11, Z11
	VPADDQ  Z11, Z8, Z8
	VPSRLQ  $40, Z13, Z10
	VPORQ   Z14, Z10, Z10
	VPADDQ  Z10, Z9, Z9

	// Carry, two chains at once (d3 -> d4 -> d0 and d0 -> d1 -> d2 -> d3), d4's
	// carry times 5 into d0: limbs end below 2^26 but for a1 and a4 (a few bits more).
	VPSRLQ $26, Z8, Z10
	VPANDQ Z15, Z8, Z8
	VPADDQ Z10, Z9, Z9
	VPSRLQ $26, Z5, Z11
	VPANDQ Z15, Z5, Z0
	VPADDQ Z11, Z6, Z6
	VPSRLQ $26, Z9, Z10
	VPANDQ Z15, Z9, Z4
	VPSLLQ $2, Z10, Z12
	VPADDQ Z12, Z10, Z10
	VPADDQ Z10, Z0, Z0
	VPSRLQ $26, Z6, Z11
	VPANDQ Z15, Z6, Z1
	VPADDQ Z11, Z7, Z7
	VPSRLQ $26, Z7, Z11
	VPANDQ Z15, Z7, Z2
	VPADDQ Z11, Z8, Z8
	VPSRLQ $26, Z0, Z10
	VPANDQ Z15, Z0, Z0
	VPADDQ Z10, Z1, Z1
	VPSRLQ $26, Z8, Z11
	VPANDQ Z15, Z8, Z3
	VPADDQ Z11, Z4, Z4

	ADDQ $128, SI
	DECQ CX
	JNZ  loop

	VMOVDQU64 Z0, 0(AX)
	VMOVDQU64 Z1, 64(AX)
	VMOVDQU64 Z2, 128(AX)
	VMOVDQU64 Z3, 192(AX)
	VMOVDQU64 Z4, 256(AX)
	VZEROUPPER
	RET
