//go:build amd64 && !purego

package poly1305

import "golang.org/x/sys/cpu"

// hasAVX2 is whether the vector code runs here; tests turn it off.
var hasAVX2 = cpu.X86.HasAVX2

func useVector() bool { return hasAVX2 }

func vectorBlocks(acc *[20]uint64, vk *vecKey, m []byte) {
	if len(m) == 0 {
		return
	}
	blocksAVX2(acc, vk, &m[0], len(m)/64)
}

// blocksAVX2 runs acc = acc*r^4 + (the next four blocks) over n 64-byte pieces of m,
// each lane of acc (acc[limb*4+lane]) on its own block of the four.
//
//go:noescape
func blocksAVX2(acc *[20]uint64, vk *vecKey, m *byte, n int)
