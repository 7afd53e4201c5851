package xts

import "encoding/binary"

// AES key expansion (FIPS-197 section 5.2), done here because the assembly needs the
// round keys in memory. The S-box is computed arithmetically (inversion in GF(2^8)
// followed by the affine map) rather than looked up, so the key schedule does no
// key-dependent memory accesses. Speed does not matter: it runs once per key.

// gmul multiplies in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, in constant time.
func gmul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= a & -(b & 1)
		hi := a >> 7
		a = a<<1 ^ 0x1b&-hi
		b >>= 1
	}
	return p
}

// sbox is the AES S-box: the multiplicative inverse (0 for 0) followed by the affine map.
func sbox(x byte) byte {
	// x^254 = x^-1 for x != 0, and 0 for x == 0.
	inv := byte(1)
	sq := x
	for range 7 {
		sq = gmul(sq, sq) // x^2, x^4, ..., x^128
		inv = gmul(inv, sq)
	}
	rotl := func(b byte, n uint) byte { return b<<n | b>>(8-n) }
	return inv ^ rotl(inv, 1) ^ rotl(inv, 2) ^ rotl(inv, 3) ^ rotl(inv, 4) ^ 0x63
}

func subWord(w uint32) uint32 {
	return uint32(sbox(byte(w>>24)))<<24 | uint32(sbox(byte(w>>16)))<<16 |
		uint32(sbox(byte(w>>8)))<<8 | uint32(sbox(byte(w)))
}

// expandKey writes the encryption round keys of key (16 or 32 bytes) to rk, 16 bytes
// per round key in the byte order AESENC takes, and returns the number of rounds.
func expandKey(rk []byte, key []byte) int {
	nk := len(key) / 4
	nr := nk + 6
	var w [60]uint32
	for i := range nk {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < 4*(nr+1); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon = uint32(gmul(byte(rcon), 2))
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	for i := range 4 * (nr + 1) {
		binary.BigEndian.PutUint32(rk[4*i:], w[i])
	}
	clear(w[:])
	return nr
}

// invertKey writes the round keys for decryption with AESDEC (the equivalent inverse
// cipher): the encryption keys in reverse order, with InvMixColumns (what AESIMC
// computes) applied to all but the first and the last.
func invertKey(dk, ek []byte, nr int) {
	copy(dk[0:16], ek[16*nr:16*nr+16])
	for i := 1; i < nr; i++ {
		invMixColumns(dk[16*i:16*i+16], ek[16*(nr-i):16*(nr-i)+16])
	}
	copy(dk[16*nr:16*nr+16], ek[0:16])
}

func invMixColumns(dst, src []byte) {
	for c := 0; c < 16; c += 4 {
		b0, b1, b2, b3 := src[c], src[c+1], src[c+2], src[c+3]
		dst[c] = gmul(b0, 14) ^ gmul(b1, 11) ^ gmul(b2, 13) ^ gmul(b3, 9)
		dst[c+1] = gmul(b0, 9) ^ gmul(b1, 14) ^ gmul(b2, 11) ^ gmul(b3, 13)
		dst[c+2] = gmul(b0, 13) ^ gmul(b1, 9) ^ gmul(b2, 14) ^ gmul(b3, 11)
		dst[c+3] = gmul(b0, 11) ^ gmul(b1, 13) ^ gmul(b2, 9) ^ gmul(b3, 14)
	}
}
