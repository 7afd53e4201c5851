package xts

// cryptPortable is the portable path: golang.org/x/crypto/xts over crypto/aes, one
// sector at a time. crypto/aes itself uses AES-NI or the ARMv8 instructions where it
// can; what the assembly adds is many blocks in flight and the tweaks kept in
// registers. plain64 numbers sectors as x/crypto/xts does (the sector number,
// little-endian, in the first 8 bytes of the tweak block).
func (c *Cipher) cryptPortable(dst, src []byte, sectorSize int, tweak, step uint64, decrypt bool) {
	for off := 0; off < len(src); off += sectorSize {
		d, s := dst[off:off+sectorSize], src[off:off+sectorSize]
		if decrypt {
			c.portable.Decrypt(d, s, tweak)
		} else {
			c.portable.Encrypt(d, s, tweak)
		}
		tweak += step
	}
}
