//go:build amd64 && !purego

package sha256x2

import "golang.org/x/sys/cpu"

// useSHANI says whether this CPU runs the assembly: the SHA extensions (CPUID leaf 7,
// EBX bit 29) with SSSE3 and SSE4.1. Tests turn it off.
var useSHANI = hasSHA() && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41

func hasSHA() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<29) != 0
}

// cpuid runs the CPUID instruction.
func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// blockx1 runs the n 64-byte blocks at p through the state h.
//
//go:noescape
func blockx1(h *[8]uint32, p *byte, n int)

// blockx2 runs the n 64-byte blocks at pa through the state ha and the n at pb
// through hb, the two lanes interleaved.
//
//go:noescape
func blockx2(ha, hb *[8]uint32, pa, pb *byte, n int)
