//go:build amd64 && !purego && !xtsportable

package xts

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The AVX-512 path needs VAES and VPCLMULQDQ on 512-bit registers, with AVX512VL for
// the EVEX-encoded 128-bit forms and AVX512BW for VPSLLDQ on ZMM.
var haveAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW &&
	cpu.X86.HasAVX512VAES && cpu.X86.HasAVX512VPCLMULQDQ

// The AVX2 path needs VAES and VPCLMULQDQ in their VEX.256 forms. x/sys/cpu reports
// those two CPUID bits only when the OS enables AVX-512, so read them directly.
var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ && func() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	_, _, ecx, _ := cpuid(7, 0)
	return ecx&(1<<9) != 0 && ecx&(1<<10) != 0 // VAES, VPCLMULQDQ
}()

// paths lists the implementations this CPU can run, best first.
var paths = func() []string {
	var p []string
	if haveAVX512 {
		p = append(p, "avx512")
	}
	if haveAVX2 {
		p = append(p, "avx2")
	}
	if cpu.X86.HasAES {
		p = append(p, "aesni")
	}
	return append(p, "xcrypto")
}()

// path selects the implementation; tests change it.
var path = paths[0]

// The assembly functions process n >= 1 sectors of sectorSize bytes (a positive
// multiple of 16); sector i uses the plain64 IV tweak + i*step.

//go:noescape
func encAESNI(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

//go:noescape
func decAESNI(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

//go:noescape
func encAVX2(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

//go:noescape
func decAVX2(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

//go:noescape
func encAVX512(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

//go:noescape
func decAVX512(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func cryptAsm(k *keys, dst, src []byte, n, sectorSize int, tweak, step uint64, decrypt bool) bool {
	d, s := unsafe.SliceData(dst), unsafe.SliceData(src)
	switch {
	case path == "avx512" && decrypt:
		decAVX512(k, d, s, n, sectorSize, tweak, step)
	case path == "avx512":
		encAVX512(k, d, s, n, sectorSize, tweak, step)
	case path == "avx2" && decrypt:
		decAVX2(k, d, s, n, sectorSize, tweak, step)
	case path == "avx2":
		encAVX2(k, d, s, n, sectorSize, tweak, step)
	case path == "aesni" && decrypt:
		decAESNI(k, d, s, n, sectorSize, tweak, step)
	case path == "aesni":
		encAESNI(k, d, s, n, sectorSize, tweak, step)
	default:
		return false
	}
	return true
}
