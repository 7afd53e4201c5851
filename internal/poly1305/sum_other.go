//go:build !amd64 || purego

package poly1305

// hasAVX2 is false on this build: Sum is golang.org/x/crypto/poly1305 everywhere.
var hasAVX2 = false

func useVector() bool { return false }

func vectorBlocks(acc *[20]uint64, vk *vecKey, m []byte) {
	panic("poly1305: no vector code on this build")
}
