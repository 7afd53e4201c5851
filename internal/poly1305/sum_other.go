//go:build !amd64 || purego

package poly1305

// paths lists the implementations this build can run: golang.org/x/crypto only.
var paths = []string{"xcrypto"}

// path selects the implementation; tests change it.
var path = paths[0]

func vectorLanes(n int) int { return 0 }

func vectorBlocks(acc *[40]uint64, vk *[88]uint64, m []byte, lanes int) {
	panic("poly1305: no vector code on this build")
}
