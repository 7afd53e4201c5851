//go:build amd64 && !purego

package poly1305

import "golang.org/x/sys/cpu"

// paths lists the implementations this CPU can run, best first: AVX-512 (eight blocks
// at once), AVX2 (four), x/crypto.
var paths = func() []string {
	var p []string
	if cpu.X86.HasAVX512F {
		p = append(p, "avx512")
	}
	if cpu.X86.HasAVX2 {
		p = append(p, "avx2")
	}
	return append(p, "xcrypto")
}()

// path selects the implementation; tests change it.
var path = paths[0]

// Shortest messages for the vector code (from BenchmarkCrossover on a Xeon with
// AVX-512): below them x/crypto is as fast, the lanes' combination costing as much as
// the blocks saved.
const (
	minAVX2   = 2048
	minAVX512 = 4096
)

// vectorLanes says how the current path does a message of n bytes: 0 for x/crypto,
// else the vector code's number of lanes.
func vectorLanes(n int) int {
	switch {
	case path == "avx512" && n >= minAVX512:
		return 8
	case path != "xcrypto" && n >= minAVX2:
		return 4
	}
	return 0
}

func vectorBlocks(acc *[40]uint64, vk *[88]uint64, m []byte, lanes int) {
	if len(m) == 0 {
		return
	}
	if lanes == 8 {
		blocksAVX512(acc, vk, &m[0], len(m)/128)
		return
	}
	blocksAVX2(acc, vk, &m[0], len(m)/64)
}

// blocksAVX2 runs acc = acc*r^4 + (the next four blocks) over n 64-byte pieces of m,
// each lane of acc (acc[limb*4+lane]) on its own block of the four; vk is laid out
// as sumVector writes it for four lanes.
//
//go:noescape
func blocksAVX2(acc *[40]uint64, vk *[88]uint64, m *byte, n int)

// blocksAVX512 is blocksAVX2 with eight lanes, r^8 and n 128-byte pieces.
//
//go:noescape
func blocksAVX512(acc *[40]uint64, vk *[88]uint64, m *byte, n int)
