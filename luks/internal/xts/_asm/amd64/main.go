// Command amd64 writes ../xts_amd64.s with avo: from luks/internal/xts,
//
//	go generate        (or: go -C _asm run ./amd64 -out ../xts_amd64.s)
//
// The functions it writes implement the declarations in xts_amd64.go (avo reads their
// signatures from the package). Three implementations, chosen at run time:
//
//   - AES-NI: 8 blocks in flight in XMM registers;
//   - AVX2 with VAES and VPCLMULQDQ on YMM registers (AMD Zen 3, Intel Alder Lake):
//     16 blocks in flight, 2 per register;
//   - AVX-512 with VAES and VPCLMULQDQ on ZMM registers: 16 blocks, 4 per register,
//     with the round keys held in registers.
//
// Each takes n >= 1 sectors of sectorSize bytes (a positive multiple of 16); sector i
// uses the plain64 IV tweak + i*step. A block is C = E_K1(P ^ T) ^ T, where T starts
// as E_K2(IV) and is multiplied by x in GF(2^128) from one block to the next (the
// XTS convention: little-endian, reduction by x^128 + x^7 + x^2 + x + 1, i.e. 0x87).
// Registers are named physically, not allocated: the layout of each function is
// described above it and is what a reviewer checks against.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Layout of the Go type keys (checked by TestKeysLayout in the package).
const (
	offEnc1 = 0   // data key, encryption round keys (15 x 16 bytes)
	offDec1 = 240 // data key, AESDEC round keys (the equivalent inverse cipher)
	offEnc2 = 480 // tweak key, encryption round keys
	offNR   = 720 // rounds: 10 (AES-128) or 14 (AES-256)
)

// The data section: constants the tweak arithmetic needs.
var xtsPoly, xtsLaneShl, xtsLaneShr Mem

func main() {
	Package("travelkit/luks/internal/xts")
	ConstraintExpr("amd64,!purego,!xtsportable")

	// Reduction constant for doubling an XTS tweak in an XMM register (see doubleSSE):
	// dword 0 gets 0x87 when bit 127 carries out, dword 2 gets 1 when bit 63 carries
	// into bit 64.
	xtsPoly = GLOBL("xtsPoly", RODATA|NOPTR)
	for i, v := range []uint32{0x87, 0, 1, 0} {
		DATA(4*i, U32(v))
	}
	// Per-qword shift counts that multiply the four 128-bit lanes of a ZMM register by
	// 1, x, x^2 and x^3 (VPSRLVQ by 64 or more gives 0).
	xtsLaneShl = GLOBL("xtsLaneShl", RODATA|NOPTR)
	for i, v := range []uint64{0, 0, 1, 1, 2, 2, 3, 3} {
		DATA(8*i, U64(v))
	}
	xtsLaneShr = GLOBL("xtsLaneShr", RODATA|NOPTR)
	for i, v := range []uint64{64, 64, 63, 63, 62, 62, 61, 61} {
		DATA(8*i, U64(v))
	}

	aesni("encAESNI", AESENC, AESENCLAST, offEnc1)
	aesni("decAESNI", AESDEC, AESDECLAST, offDec1)
	avx2("encAVX2", VAESENC, VAESENCLAST, offEnc1)
	avx2("decAVX2", VAESDEC, VAESDECLAST, offDec1)
	avx512("encAVX512", VAESENC, VAESENCLAST, offEnc1)
	avx512("decAVX512", VAESDEC, VAESDECLAST, offDec1)
	cpuid()
	Generate()
}

// m is the memory operand disp(base).
func m(base Register, disp int) Mem { return Mem{Base: base, Disp: disp} }

// mi is the memory operand disp(base)(index*1).
func mi(base Register, disp int, index Register) Mem {
	return Mem{Base: base, Disp: disp, Index: index, Scale: 1}
}

// A round is one AES round instruction: AESENC/AESDEC (SSE, two operands) or their
// VEX/EVEX forms (three operands).
type (
	sseRound func(mx, x Op)
	vexRound func(mxyz, xyz, xyz1 Op)
)

// loadArgs loads the arguments into the registers every implementation uses:
// AX keys, DI dst, SI src, CX sectors, DX sector size, R8 IV, R9 IV step, R10 rounds.
func loadArgs() {
	Load(Param("k"), RAX)
	Load(Param("dst"), RDI)
	Load(Param("src"), RSI)
	Load(Param("n"), RCX)
	Load(Param("sectorSize"), RDX)
	Load(Param("tweak"), R8)
	Load(Param("step"), R9)
	Comment("rounds")
	MOVQ(m(RAX, offNR), R10)
}

// doubleSSE multiplies the tweak in t by x: shift both qwords left by one (PADDQ),
// then add back what fell out of each: 0x87 into dword 0 for bit 127, 1 into dword 2
// for bit 63 (the sign bits of dwords 3 and 1, spread by PSHUFD and PSRAL, masked by
// poly = xtsPoly). tmp is clobbered.
func doubleSSE(t, poly, tmp VecPhysical) {
	PSHUFD(U8(0x13), t, tmp)
	PSRAL(U8(31), tmp)
	PAND(poly, tmp)
	PADDQ(t, t)
	PXOR(tmp, t)
}

// doubleVEX is doubleSSE in VEX encoding (for use next to 256- and 512-bit code).
func doubleVEX(t, poly, tmp VecPhysical) {
	VPSHUFD(U8(0x13), t, tmp)
	VPSRAD(U8(31), tmp, tmp)
	VPAND(poly, tmp, tmp)
	VPADDQ(t, t, t)
	VPXOR(tmp, t, t)
}

// mulXk multiplies each 128-bit lane of src by x^k (0 < k < 64) into dst, the XTS
// convention: shift each qword left by k, move the k bits out of the low qword into
// the high one (VPSLLDQ by 8 bytes), and fold the k bits out of bit 127 back in,
// times 0x87 (carry-less, by VPCLMULQDQ with poly87 = 0x87 in every qword). The
// AVX-512 form combines the three parts with one VPTERNLOGQ (0x96: a ^ b ^ c).
// t1 and t2 are scratch; dst may be src.
func mulXk(k int, src, dst, poly87, t1, t2 VecPhysical) {
	VPSRLQ(U8(64-k), src, t1) // the k bits each qword shifts out
	VPSLLQ(U8(k), src, dst)
	VPCLMULQDQ(U8(0x01), poly87, t1, t2) // bits out of bit 127, times 0x87
	VPSLLDQ(U8(8), t1, t1)               // bits out of bit 63 go to bit 64
	if dst.Size() == 64 {
		VPTERNLOGQ(U8(0x96), t2, t1, dst)
	} else {
		VPXOR(t1, dst, dst)
		VPXOR(t2, dst, dst)
	}
}

// encryptIVSSE sets t = AES-Enc(K2, IV) with the IV from R8, one round key at a time
// through key; R10 holds the rounds.
func encryptIVSSE(t, key VecPhysical) {
	Comment("T = AES-Enc(K2, IV)")
	MOVQ(R8, t)
	MOVOU(m(RAX, offEnc2), key)
	PXOR(key, t)
	for r := 1; r <= 9; r++ {
		MOVOU(m(RAX, offEnc2+16*r), key)
		AESENC(key, t)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("ivlast10"))
	for r := 10; r <= 13; r++ {
		MOVOU(m(RAX, offEnc2+16*r), key)
		AESENC(key, t)
	}
	MOVOU(m(RAX, offEnc2+16*14), key)
	AESENCLAST(key, t)
	JMP(LabelRef("ivdone"))
	Label("ivlast10")
	MOVOU(m(RAX, offEnc2+16*10), key)
	AESENCLAST(key, t)
	Label("ivdone")
}

// aesni writes the AES-NI implementation: 8 blocks in flight in X0-X7. X8 holds the
// current round key, X15 the running tweak, X14 xtsPoly, X13 is scratch. The 8 tweaks
// of a batch are kept in a 16-byte aligned area on the stack (R12) so that PXOR can
// take them from memory.
//
// AX keys, BX data round keys, R13 last data round key, R10 rounds, DI dst, SI src,
// CX sectors left, DX sector size, R11 bytes left in the sector, R8 IV, R9 IV step.
func aesni(name string, round, last sseRound, keyOff int) {
	Implement(name)
	Attributes(NOSPLIT)
	frame := AllocLocal(144) // 128 bytes of tweaks, and room to align them
	loadArgs()
	LEAQ(m(RAX, keyOff), RBX)
	MOVQ(R10, R13)
	SHLQ(U8(4), R13)
	ADDQ(RBX, R13)
	LEAQ(frame.Offset(15), R12)
	ANDQ(I8(-16), R12)
	MOVOU(xtsPoly, X14)

	Label("sector")
	encryptIVSSE(X15, X8)
	MOVQ(RDX, R11)

	Label("loop8")
	CMPQ(R11, U8(128))
	JB(LabelRef("tail"))
	Comment("tweaks of the 8 blocks")
	for j := 0; j < 8; j++ {
		MOVO(X15, m(R12, 16*j))
		doubleSSE(X15, X14, X13)
	}
	blocks := []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7}
	for j, b := range blocks {
		MOVOU(m(RSI, 16*j), b)
	}
	MOVOU(m(RBX, 0), X8)
	for j, b := range blocks {
		PXOR(m(R12, 16*j), b)
		PXOR(X8, b)
	}
	round8 := func(r int) {
		MOVOU(m(RBX, 16*r), X8)
		for _, b := range blocks {
			round(X8, b)
		}
	}
	for r := 1; r <= 9; r++ {
		round8(r)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("last8"))
	for r := 10; r <= 13; r++ {
		round8(r)
	}
	Label("last8")
	MOVOU(m(R13, 0), X8)
	for _, b := range blocks {
		last(X8, b)
	}
	for j, b := range blocks {
		PXOR(m(R12, 16*j), b)
		MOVOU(b, m(RDI, 16*j))
	}
	ADDQ(U8(128), RSI)
	ADDQ(U8(128), RDI)
	SUBQ(U8(128), R11)
	JMP(LabelRef("loop8"))

	Label("tail")
	Comment("fewer than 8 blocks left in the sector: one at a time")
	TESTQ(R11, R11)
	JZ(LabelRef("nextsector"))
	MOVOU(m(RSI, 0), X0)
	PXOR(X15, X0)
	MOVOU(m(RBX, 0), X8)
	PXOR(X8, X0)
	for r := 1; r <= 9; r++ {
		MOVOU(m(RBX, 16*r), X8)
		round(X8, X0)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("last1"))
	for r := 10; r <= 13; r++ {
		MOVOU(m(RBX, 16*r), X8)
		round(X8, X0)
	}
	Label("last1")
	MOVOU(m(R13, 0), X8)
	last(X8, X0)
	PXOR(X15, X0)
	MOVOU(X0, m(RDI, 0))
	doubleSSE(X15, X14, X13)
	ADDQ(U8(16), RSI)
	ADDQ(U8(16), RDI)
	SUBQ(U8(16), R11)
	JMP(LabelRef("tail"))

	Label("nextsector")
	ADDQ(R9, R8)
	DECQ(RCX)
	JNZ(LabelRef("sector"))
	// Leave no tweak or key material behind in the stack area or in registers.
	PXOR(X0, X0)
	for j := 0; j < 8; j++ {
		MOVO(X0, m(R12, 16*j))
	}
	for _, x := range []VecPhysical{X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15} {
		PXOR(x, x)
	}
	RET()
}

// ivOffsets stores at area the IV offsets 0, step, 2 step and 3 step (R9 = step), one
// per 128-bit lane with the high qwords 0, for encrypting the IVs of 4 sectors at once.
// scratch is clobbered.
func ivOffsets(area Mem, scratch GPPhysical) {
	MOVQ(U32(0), area.Offset(0))
	MOVQ(U32(0), area.Offset(8))
	MOVQ(R9, area.Offset(16))
	MOVQ(U32(0), area.Offset(24))
	LEAQ(Mem{Base: R9, Index: R9, Scale: 1}, scratch)
	MOVQ(scratch, area.Offset(32))
	MOVQ(U32(0), area.Offset(40))
	ADDQ(R9, scratch)
	MOVQ(scratch, area.Offset(48))
	MOVQ(U32(0), area.Offset(56))
}

// advanceIV4 adds 4 step to the IV in R8 (R9 = step); scratch is clobbered.
func advanceIV4(scratch GPPhysical) {
	Comment("IV += 4 step")
	LEAQ(Mem{Base: R9, Index: R9, Scale: 1}, scratch)
	LEAQ(Mem{Base: R8, Index: scratch, Scale: 2}, R8)
}

// avx2 writes the implementation with VAES and VPCLMULQDQ on YMM registers, for CPUs
// that have those but not AVX-512: 16 blocks in flight, 2 per YMM register (Y0-Y7).
// Y8 holds the current round key broadcast to both lanes. The 16 tweaks of a batch
// live in a 32-byte aligned stack area (R12), 2 per 32 bytes, and are advanced in
// place by x^16 once used. Y9-Y12 are scratch, X13 holds xtsPoly, Y14 0x87 in every
// qword. The IVs of 4 sectors are encrypted at once into 320(R12); DX is the offset
// of the next one there (64: none left). 256(R12) holds the IV offsets.
func avx2(name string, round, last vexRound, keyOff int) {
	Implement(name)
	Attributes(NOSPLIT)
	frame := AllocLocal(416) // tweaks 256, IV offsets 64, encrypted IVs 64, alignment
	loadArgs()
	LEAQ(m(RAX, keyOff), RBX)
	MOVQ(R10, R13)
	SHLQ(U8(4), R13)
	ADDQ(RBX, R13)
	LEAQ(frame.Offset(31), R12)
	ANDQ(I8(-32), R12)
	VMOVDQU(xtsPoly, X13)
	MOVQ(U32(0x87), R11)
	VMOVQ(R11, X14)
	VPBROADCASTQ(X14, Y14)
	Comment("256(R12): the IV offsets 0, step, 2 step, 3 step (one per 128-bit lane, high qwords 0)")
	ivOffsets(m(R12, 256), R11)
	Comment("DX: offset of the next encrypted IV in 320(R12); 64: none left")
	MOVQ(U32(64), RDX)

	Label("sector")
	CMPQ(RDX, U8(64))
	JNE(LabelRef("haveiv"))
	Comment("encrypt the IVs of the next 4 sectors at once: 320(R12) = AES-Enc(K2, IV+i*step)")
	VMOVQ(R8, X9)
	VPERMQ(U8(0x44), Y9, Y9)
	VPADDQ(m(R12, 256), Y9, Y10)
	VPADDQ(m(R12, 288), Y9, Y11)
	VBROADCASTI128(m(RAX, offEnc2), Y12)
	VPXOR(Y12, Y10, Y10)
	VPXOR(Y12, Y11, Y11)
	for r := 1; r <= 9; r++ {
		VBROADCASTI128(m(RAX, offEnc2+16*r), Y12)
		VAESENC(Y12, Y10, Y10)
		VAESENC(Y12, Y11, Y11)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("ivlast10"))
	for r := 10; r <= 13; r++ {
		VBROADCASTI128(m(RAX, offEnc2+16*r), Y12)
		VAESENC(Y12, Y10, Y10)
		VAESENC(Y12, Y11, Y11)
	}
	VBROADCASTI128(m(RAX, offEnc2+16*14), Y12)
	JMP(LabelRef("ivlast"))
	Label("ivlast10")
	VBROADCASTI128(m(RAX, offEnc2+16*10), Y12)
	Label("ivlast")
	VAESENCLAST(Y12, Y10, Y10)
	VAESENCLAST(Y12, Y11, Y11)
	VMOVDQU(Y10, m(R12, 320))
	VMOVDQU(Y11, m(R12, 352))
	XORQ(RDX, RDX)
	advanceIV4(R11)

	Label("haveiv")
	Comment("the sector's first 16 tweaks: Y9 = T, xT; slot j = Y9 times x^(2j)")
	VMOVDQU(mi(R12, 320, RDX), X9)
	ADDQ(U8(16), RDX)
	VMOVDQA(X9, X10)
	doubleVEX(X10, X13, X11)
	VINSERTI128(U8(1), X10, Y9, Y9)
	VMOVDQU(Y9, m(R12, 0))
	for j := 1; j < 8; j++ {
		mulXk(2*j, Y9, Y10, Y14, Y11, Y12)
		VMOVDQU(Y10, m(R12, 32*j))
	}
	Load(Param("sectorSize"), R11)

	Label("loop16")
	CMPQ(R11, U32(256))
	JB(LabelRef("tail"))
	blocks := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	for j, b := range blocks {
		VMOVDQU(m(RSI, 32*j), b)
	}
	VBROADCASTI128(m(RBX, 0), Y8)
	for j, b := range blocks {
		VPXOR(m(R12, 32*j), b, b)
		VPXOR(Y8, b, b)
	}
	round16 := func(r int) {
		VBROADCASTI128(m(RBX, 16*r), Y8)
		for _, b := range blocks {
			round(Y8, b, b)
		}
	}
	for r := 1; r <= 9; r++ {
		round16(r)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("last16"))
	for r := 10; r <= 13; r++ {
		round16(r)
	}
	Label("last16")
	VBROADCASTI128(m(R13, 0), Y8)
	for j, b := range blocks {
		last(Y8, b, b)
		VPXOR(m(R12, 32*j), b, b)
		VMOVDQU(b, m(RDI, 32*j))
	}
	Comment("next batch's tweaks: times x^16")
	for j := 0; j < 8; j++ {
		VMOVDQU(m(R12, 32*j), Y9)
		mulXk(16, Y9, Y9, Y14, Y10, Y11)
		VMOVDQU(Y9, m(R12, 32*j))
	}
	ADDQ(U32(256), RSI)
	ADDQ(U32(256), RDI)
	SUBQ(U32(256), R11)
	JMP(LabelRef("loop16"))

	Label("tail")
	Comment("fewer than 16 blocks left in the sector: one at a time, tweak in X9")
	VMOVDQU(m(R12, 0), X9)
	Label("tail1")
	TESTQ(R11, R11)
	JZ(LabelRef("nextsector"))
	VMOVDQU(m(RSI, 0), X0)
	VPXOR(X9, X0, X0)
	VPXOR(m(RBX, 0), X0, X0)
	for r := 1; r <= 9; r++ {
		round(m(RBX, 16*r), X0, X0)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("last1"))
	for r := 10; r <= 13; r++ {
		round(m(RBX, 16*r), X0, X0)
	}
	Label("last1")
	last(m(R13, 0), X0, X0)
	VPXOR(X9, X0, X0)
	VMOVDQU(X0, m(RDI, 0))
	doubleVEX(X9, X13, X10)
	ADDQ(U8(16), RSI)
	ADDQ(U8(16), RDI)
	SUBQ(U8(16), R11)
	JMP(LabelRef("tail1"))

	Label("nextsector")
	DECQ(RCX)
	JNZ(LabelRef("sector"))
	// Leave no tweak or key material behind in registers or the stack area (zeroing
	// idioms: VZEROALL is microcoded and slow on AMD).
	for _, y := range []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12} {
		VPXOR(y, y, y)
	}
	for j := 0; j < 12; j++ {
		VMOVDQU(Y0, m(R12, 32*j))
	}
	VZEROUPPER()
	RET()
}

// avx512 writes the implementation with VAES and VPCLMULQDQ on ZMM registers: 16
// blocks in flight, 4 per register (Z0-Z3). Z4-Z7 hold their tweaks; Z8-Z11 the last
// round key XORed with those tweaks (so the last round also applies the output
// tweak). Z16 holds round key 0, Z17+r-1 round key r (r < rounds), Z30 the last round
// key, each broadcast to the four lanes; Z31 0x87 in every qword. Z12, Z13, Z15 are
// scratch (Z8-Z13 also while a sector's tweaks are set up); X14 holds xtsPoly for
// 128-bit doubling. The IVs of 4 sectors are encrypted at once into 64(SP), R12 the
// offset of the next one there (64: none left); 0(SP) holds the IV offsets.
func avx512(name string, round, last vexRound, keyOff int) {
	Implement(name)
	Attributes(NOSPLIT)
	frame := AllocLocal(128) // IV offsets 64, encrypted IVs 64
	loadArgs()
	LEAQ(m(RAX, keyOff), RBX)
	for r := 0; r <= 9; r++ {
		VBROADCASTI32X4(m(RBX, 16*r), zmm(16+r))
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("keysloaded"))
	for r := 10; r <= 13; r++ {
		VBROADCASTI32X4(m(RBX, 16*r), zmm(16+r))
	}
	Label("keysloaded")
	MOVQ(R10, R13)
	SHLQ(U8(4), R13)
	ADDQ(RBX, R13)
	VBROADCASTI32X4(m(R13, 0), Z30)
	MOVQ(U32(0x87), R12)
	VPBROADCASTQ(R12, Z31)
	VMOVDQU(xtsPoly, X14)
	Comment("0(SP): the IV offsets 0, step, 2 step, 3 step (one per 128-bit lane, high qwords 0)")
	ivOffsets(frame, R13)
	Comment("K1: the low qword of each lane")
	MOVQ(U32(0x55), R12)
	KMOVW(R12L, K1)
	Comment("R12: offset of the next encrypted IV in 64(SP); 64: none left")
	MOVQ(U32(64), R12)
	ivs := frame.Offset(64)

	Label("sector")
	CMPQ(R12, U8(64))
	JNE(LabelRef("haveiv"))
	Comment("encrypt the IVs of the next 4 sectors at once: 64(SP) = AES-Enc(K2, IV+i*step)")
	VPBROADCASTQ_Z(R8, K1, Z12)
	VPADDQ(frame, Z12, Z12)
	VBROADCASTI32X4(m(RAX, offEnc2), Z13)
	VPXORQ(Z13, Z12, Z12)
	for r := 1; r <= 9; r++ {
		VBROADCASTI32X4(m(RAX, offEnc2+16*r), Z13)
		VAESENC(Z13, Z12, Z12)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("ivlast10"))
	for r := 10; r <= 13; r++ {
		VBROADCASTI32X4(m(RAX, offEnc2+16*r), Z13)
		VAESENC(Z13, Z12, Z12)
	}
	VBROADCASTI32X4(m(RAX, offEnc2+16*14), Z13)
	JMP(LabelRef("ivlast"))
	Label("ivlast10")
	VBROADCASTI32X4(m(RAX, offEnc2+16*10), Z13)
	Label("ivlast")
	VAESENCLAST(Z13, Z12, Z12)
	VMOVDQU64(Z12, ivs)
	XORQ(R12, R12)
	advanceIV4(R13)

	Label("haveiv")
	Comment("Z4 = T, xT, x^2 T, x^3 T; Z5-Z7 the next 12 tweaks")
	VBROADCASTI32X4(ivs.Idx(R12, 1), Z4)
	ADDQ(U8(16), R12)
	VPSRLVQ(xtsLaneShr, Z4, Z12)
	VPSLLVQ(xtsLaneShl, Z4, Z4)
	VPCLMULQDQ(U8(0x01), Z31, Z12, Z13)
	VPSLLDQ(U8(8), Z12, Z12)
	VPTERNLOGQ(U8(0x96), Z13, Z12, Z4)
	mulXk(4, Z4, Z5, Z31, Z8, Z9)
	mulXk(8, Z4, Z6, Z31, Z10, Z11)
	mulXk(12, Z4, Z7, Z31, Z12, Z13)
	MOVQ(RDX, R11)

	Label("loop16")
	CMPQ(R11, U32(256))
	JB(LabelRef("tail"))
	blocks := []VecPhysical{Z0, Z1, Z2, Z3}
	for j, b := range blocks {
		VMOVDQU64(m(RSI, 64*j), b)
	}
	for j, b := range blocks {
		VPTERNLOGQ(U8(0x96), Z16, zmm(4+j), b) // block ^ tweak ^ round key 0
		VPXORQ(Z30, zmm(4+j), zmm(8+j))
	}
	Comment("next batch's tweaks: times x^16 (overlaps the rounds)")
	mulXk(16, Z4, Z4, Z31, Z12, Z13)
	mulXk(16, Z5, Z5, Z31, Z15, Z13)
	mulXk(16, Z6, Z6, Z31, Z12, Z13)
	mulXk(16, Z7, Z7, Z31, Z15, Z13)
	for r := 1; r <= 9; r++ {
		for _, b := range blocks {
			round(zmm(16+r), b, b)
		}
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("last16"))
	for r := 10; r <= 13; r++ {
		for _, b := range blocks {
			round(zmm(16+r), b, b)
		}
	}
	Label("last16")
	for j, b := range blocks {
		last(zmm(8+j), b, b)
	}
	for j, b := range blocks {
		VMOVDQU64(b, m(RDI, 64*j))
	}
	ADDQ(U32(256), RSI)
	ADDQ(U32(256), RDI)
	SUBQ(U32(256), R11)
	JMP(LabelRef("loop16"))

	Label("tail")
	Comment("fewer than 16 blocks left in the sector: one at a time, tweak in X4")
	TESTQ(R11, R11)
	JZ(LabelRef("nextsector"))
	VMOVDQU(m(RSI, 0), X0)
	VPTERNLOGQ(U8(0x96), X16, X4, X0)
	for r := 1; r <= 9; r++ {
		round(xmm(16+r), X0, X0)
	}
	CMPQ(R10, U8(10))
	JEQ(LabelRef("last1"))
	for r := 10; r <= 13; r++ {
		round(xmm(16+r), X0, X0)
	}
	Label("last1")
	last(X30, X0, X0)
	VPXOR(X4, X0, X0)
	VMOVDQU(X0, m(RDI, 0))
	doubleVEX(X4, X14, X13)
	ADDQ(U8(16), RSI)
	ADDQ(U8(16), RDI)
	SUBQ(U8(16), R11)
	JMP(LabelRef("tail"))

	Label("nextsector")
	DECQ(RCX)
	JNZ(LabelRef("sector"))
	// Do not leave round keys or tweaks in vector registers. (Zeroing idioms rather
	// than VZEROALL, which is microcoded and slow on AMD; VZEROUPPER still avoids
	// SSE transition penalties.)
	for z := 0; z <= 30; z++ {
		if z != 14 {
			VPXORQ(zmm(z), zmm(z), zmm(z))
		}
	}
	VMOVDQU64(Z0, ivs)
	VZEROUPPER()
	RET()
}

// cpuid executes CPUID: the package reads the VAES and VPCLMULQDQ bits itself, since
// x/sys/cpu reports them only when the OS enables AVX-512.
func cpuid() {
	Implement("cpuid")
	Attributes(NOSPLIT)
	Load(Param("eaxArg"), EAX)
	Load(Param("ecxArg"), ECX)
	CPUID()
	Store(EAX, Return("eax"))
	Store(EBX, Return("ebx"))
	Store(ECX, Return("ecx"))
	Store(EDX, Return("edx"))
	RET()
}

var zmms = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

var xmms = []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
	X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}

// zmm and xmm name vector register i at 512 and 128 bits.
func zmm(i int) VecPhysical { return zmms[i] }
func xmm(i int) VecPhysical { return xmms[i] }
