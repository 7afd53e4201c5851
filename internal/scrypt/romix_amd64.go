//go:build amd64 && !purego

package scrypt

import "golang.org/x/sys/cpu"

// paths lists the implementations this CPU can run, best first. AVX-512 rotates a
// register in one instruction (VPROLD, on 128-bit registers with AVX512VL).
var paths = func() []string {
	var p []string
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		p = append(p, "avx512")
	}
	return append(p, "sse2", "xcrypto")
}()

// path selects the implementation; tests change it.
var path = paths[0]

// blockMix writes BlockMix(in) to out, both 2r blocks of 16 words in the shuffled order.
func blockMix(out, in *uint32, r int) {
	if path == "avx512" {
		blockMixAVX512(out, in, in, r, 0)
		return
	}
	blockMixSSE2(out, in, in, r, 0)
}

// blockMixXor writes BlockMix(in XOR v) to out.
func blockMixXor(out, in, v *uint32, r int) {
	if path == "avx512" {
		blockMixAVX512(out, in, v, r, 1)
		return
	}
	blockMixSSE2(out, in, v, r, 1)
}

// blockMixSSE2 and blockMixAVX512 write BlockMix(in) (xor=0) or BlockMix(in XOR v)
// (xor=1) to out; in and v each hold 32*r words, out too, and out overlaps neither.
//
//go:noescape
func blockMixSSE2(out, in, v *uint32, r int, xor int)

//go:noescape
func blockMixAVX512(out, in, v *uint32, r int, xor int)
