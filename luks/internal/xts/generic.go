package xts

import (
	"crypto/subtle"
	"encoding/binary"
)

// genericBatch is how many blocks the portable path handles per pass: their tweaks are
// computed together, then XORed in and out with one call each around the block calls.
const genericBatch = 64

// cryptGeneric is the portable path over crypto/aes block calls (which are themselves
// hardware-accelerated on amd64, arm64 and others).
func (c *Cipher) cryptGeneric(dst, src []byte, sectorSize int, tweak, step uint64, decrypt bool) {
	var tws [genericBatch * 16]byte
	var t [16]byte
	for off := 0; off < len(src); off += sectorSize {
		binary.LittleEndian.PutUint64(t[:8], tweak)
		clear(t[8:])
		c.b2.Encrypt(t[:], t[:])
		lo := binary.LittleEndian.Uint64(t[:8])
		hi := binary.LittleEndian.Uint64(t[8:])
		for s := off; s < off+sectorSize; s += genericBatch * 16 {
			n := min(genericBatch*16, off+sectorSize-s)
			for j := 0; j < n; j += 16 {
				binary.LittleEndian.PutUint64(tws[j:], lo)
				binary.LittleEndian.PutUint64(tws[j+8:], hi)
				// Multiply by x in GF(2^128), XTS (little-endian) convention.
				carry := hi >> 63
				hi = hi<<1 | lo>>63
				lo = lo<<1 ^ 0x87&-carry
			}
			out := dst[s : s+n]
			subtle.XORBytes(out, src[s:s+n], tws[:n])
			if decrypt {
				for j := 0; j < n; j += 16 {
					c.b1.Decrypt(out[j:j+16], out[j:j+16])
				}
			} else {
				for j := 0; j < n; j += 16 {
					c.b1.Encrypt(out[j:j+16], out[j:j+16])
				}
			}
			subtle.XORBytes(out, out, tws[:n])
		}
		tweak += step
	}
	clear(tws[:])
	clear(t[:])
}
