//go:build !amd64 || purego

package sha256x2

// useSHANI is false: every Digest is crypto/sha256's.
var useSHANI = false

func blockx1(h *[8]uint32, p *byte, n int) {
	panic("sha256x2: no assembly")
}

func blockx2(ha, hb *[8]uint32, pa, pb *byte, n int) {
	panic("sha256x2: no assembly")
}
