package aesctr

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

// Key is an expanded AES-256 key for XORKeyStream.
type Key struct {
	block cipher.Block // crypto/aes: the blocks the assembly does not do
	rk    [15][16]byte // round keys, FIPS 197 byte order (as AESENC takes them)
}

// New expands a 32-byte AES-256 key.
func New(key []byte) (*Key, error) {
	if len(key) != 32 {
		return nil, errors.New("aesctr: the key is not 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	k := &Key{block: b}
	expand(&k.rk, key)
	return k, nil
}

// XORKeyStream XORs src with the AES-256-CTR keystream that starts at the counter iv
// (a 128-bit big-endian number, wrapping at 2^128) into dst, as
// cipher.NewCTR(aes, iv).XORKeyStream(dst, src) does on a fresh stream. dst and src
// must have the same length and overlap entirely or not at all.
func (k *Key) XORKeyStream(dst, src []byte, iv *[16]byte) {
	if len(dst) < len(src) {
		panic("aesctr: output smaller than input")
	}
	dst = dst[:len(src)]
	hi, lo := binary.BigEndian.Uint64(iv[:8]), binary.BigEndian.Uint64(iv[8:])
	if useVAES {
		for len(src) >= minVAES {
			// blocks up to the low half's wrap (the assembly adds no carry)
			n := uint64(len(src) / 64 * 4)
			if left := -lo; left != 0 && left < n {
				n = left &^ 3
				if n == 0 {
					break // 1-3 blocks before the wrap: crypto/aes does them
				}
			}
			var ctr [8]uint64
			for i := range 4 {
				ctr[2*i], ctr[2*i+1] = hi, lo+uint64(i)
			}
			ctr256(&k.rk, &ctr, &dst[0], &src[0], int(n/4))
			src, dst = src[n*16:], dst[n*16:]
			lo += n
			if lo == 0 {
				hi++
			}
		}
	}
	if len(src) > 0 {
		var next [16]byte
		binary.BigEndian.PutUint64(next[:8], hi)
		binary.BigEndian.PutUint64(next[8:], lo)
		cipher.NewCTR(k.block, next[:]).XORKeyStream(dst, src)
	}
}

// XORKeyStreamReference is XORKeyStream by crypto/aes and crypto/cipher alone.
func (k *Key) XORKeyStreamReference(dst, src []byte, iv *[16]byte) {
	cipher.NewCTR(k.block, iv[:]).XORKeyStream(dst[:len(src)], src)
}

// expand computes AES-256's 15 round keys (FIPS 197, 5.2).
func expand(rk *[15][16]byte, key []byte) {
	var w [60]uint32
	for i := range 8 {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := 8; i < 60; i++ {
		t := w[i-1]
		switch i % 8 {
		case 0:
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon <<= 1
		case 4:
			t = subWord(t)
		}
		w[i] = w[i-8] ^ t
	}
	for i := range 60 {
		binary.BigEndian.PutUint32(rk[i/4][4*(i%4):], w[i])
	}
}

func subWord(w uint32) uint32 {
	return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 | uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
}

// sbox is AES's S-box, computed (FIPS 197, 5.1.1): the inverse in GF(2^8) modulo
// x^8+x^4+x^3+x+1, then the affine map. The inverses come from the powers of 3, which
// generate the field's 255 nonzero elements: x = 3^i has the inverse 3^(255-i). Taking
// each inverse as x^254 instead (254 multiplications for each of 256 bytes) cost 1.5 ms
// at every start of the program, the largest package initialization in it.
var sbox = func() (s [256]byte) {
	var pow [255]byte // pow[i] = 3^i
	var log [256]int  // log[3^i] = i
	x := byte(1)
	for i := range pow {
		pow[i], log[x] = x, i
		// x *= 3: x*2 (reduced by the field's polynomial) xor x
		x2 := x << 1
		if x&0x80 != 0 {
			x2 ^= 0x1b
		}
		x ^= x2
	}
	r := func(v byte, n uint) byte { return v<<n | v>>(8-n) }
	for x := range 256 {
		inv := byte(0)
		if x != 0 {
			inv = pow[(255-log[x])%255]
		}
		s[x] = inv ^ r(inv, 1) ^ r(inv, 2) ^ r(inv, 3) ^ r(inv, 4) ^ 0x63
	}
	return s
}()
