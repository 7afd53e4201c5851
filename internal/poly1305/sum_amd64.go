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

func useVector() bool { return path != "xcrypto" }

func vectorLanes() int {
	if path == "avx512" {
		return 8
	}
	return 4
}

func vectorBlocks(acc *[40]uint64, vk *[88]uint64, m []byte) {
	if len(m) == 0 {
		return
	}
	if path == "avx512" {
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
