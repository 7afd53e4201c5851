//go:build !amd64 || purego

package aesctr

// useVAES is false: XORKeyStream is crypto/aes and crypto/cipher only.
var useVAES = false

const minVAES = 256

func ctr256(rk *[15][16]byte, ctr *[8]uint64, dst, src *byte, n4 int) {
	panic("aesctr: no assembly")
}
