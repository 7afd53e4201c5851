package aesctr

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// paths runs f with the assembly (where this CPU has it) and with crypto/aes alone.
func paths(t *testing.T, f func(t *testing.T)) {
	saved := useVAES
	defer func() { useVAES = saved }()
	if saved {
		t.Run("vaes", f)
	} else {
		t.Log("no VAES with AVX-512 here (or purego): only the crypto/aes path runs")
	}
	useVAES = false
	t.Run("stdlib", f)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func reference(key []byte, iv *[16]byte, src []byte) []byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(src))
	cipher.NewCTR(b, iv[:]).XORKeyStream(out, src)
	return out
}

func ivOf(hi, lo uint64) *[16]byte {
	var iv [16]byte
	binary.BigEndian.PutUint64(iv[:8], hi)
	binary.BigEndian.PutUint64(iv[8:], lo)
	return &iv
}

// The round keys are FIPS 197's (appendix A.3's expansion of an AES-256 key).
func TestExpandFIPS197(t *testing.T) {
	key := []byte{0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
		0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4}
	var rk [15][16]byte
	expand(&rk, key)
	last := []byte{0xfe, 0x48, 0x90, 0xd1, 0xe6, 0x18, 0x8d, 0x0b, 0x04, 0x6d, 0xf3, 0x44, 0x70, 0x6c, 0x63, 0x1e}
	if !bytes.Equal(rk[14][:], last) || !bytes.Equal(rk[0][:], key[:16]) || !bytes.Equal(rk[1][:], key[16:]) {
		t.Fatalf("round keys: first %x, last %x", rk[0], rk[14])
	}
	if sbox[0] != 0x63 || sbox[0x53] != 0xed || sbox[0xff] != 0x16 {
		t.Fatal("S-box")
	}
}

// The S-box, every byte of it, is FIPS 197's definition computed the slow way: the
// inverse of x as x^254 by repeated multiplication, then the affine map.
func TestSboxDefinition(t *testing.T) {
	mul := func(a, b byte) byte {
		var p byte
		for ; b != 0; b >>= 1 {
			if b&1 != 0 {
				p ^= a
			}
			hi := a & 0x80
			a <<= 1
			if hi != 0 {
				a ^= 0x1b
			}
		}
		return p
	}
	for x := range 256 {
		inv := byte(0)
		if x != 0 {
			inv = 1
			for range 254 {
				inv = mul(inv, byte(x))
			}
		}
		b := inv
		want := b ^ (b<<1 | b>>7) ^ (b<<2 | b>>6) ^ (b<<3 | b>>5) ^ (b<<4 | b>>4) ^ 0x63
		if sbox[x] != want {
			t.Fatalf("sbox[%#02x] = %#02x, want %#02x", x, sbox[x], want)
		}
	}
}

// Every length 0..1100 at random IVs and at IVs whose counter carries (the low half
// near 2^64, the whole near 2^128), in place and not.
func TestEveryLengthAndCarry(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		key := randBytes(r, 32)
		k, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		src := randBytes(r, 1100)
		ivs := []*[16]byte{ivOf(r.Uint64(), r.Uint64()), ivOf(0, 0), ivOf(^uint64(0), ^uint64(0))}
		for d := uint64(1); d <= 80; d++ {
			ivs = append(ivs, ivOf(r.Uint64(), -d), ivOf(^uint64(0), -d))
		}
		for _, iv := range ivs {
			for n := 0; n <= 1100; n++ {
				want := reference(key, iv, src[:n])
				got := make([]byte, n)
				k.XORKeyStream(got, src[:n], iv)
				if !bytes.Equal(got, want) {
					t.Fatalf("iv %x, %d bytes: differs from crypto/aes", *iv, n)
				}
				inPlace := append([]byte(nil), src[:n]...)
				k.XORKeyStream(inPlace, inPlace, iv)
				if !bytes.Equal(inPlace, want) {
					t.Fatalf("iv %x, %d bytes in place: differs from crypto/aes", *iv, n)
				}
			}
		}
	})
}

// Large messages (up to 9 MiB, odd lengths, unaligned), some across the low half's wrap.
func TestLarge(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		key := randBytes(r, 32)
		k, _ := New(key)
		buf := randBytes(r, 9<<20+8)
		for i := 0; i < 24; i++ {
			n := r.IntN(9 << 20)
			off := r.IntN(8)
			iv := ivOf(r.Uint64(), r.Uint64())
			if i%3 == 0 {
				// the wrap somewhere inside
				iv = ivOf(r.Uint64(), -uint64(r.IntN(n/16+1)+1))
			}
			src := buf[off : off+n]
			want := reference(key, iv, src)
			got := make([]byte, n+3)[3:]
			k.XORKeyStream(got, src, iv)
			if !bytes.Equal(got, want) {
				t.Fatalf("iv %x, %d bytes at %d: differs from crypto/aes", *iv, n, off)
			}
		}
	})
}

func TestReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	key := randBytes(r, 32)
	k, _ := New(key)
	src := randBytes(r, 5000)
	iv := ivOf(r.Uint64(), r.Uint64())
	got := make([]byte, len(src))
	k.XORKeyStreamReference(got, src, iv)
	if !bytes.Equal(got, reference(key, iv, src)) {
		t.Fatal("reference differs")
	}
	if _, err := New(key[:16]); err == nil {
		t.Fatal("a 16-byte key was taken")
	}
}

func benchmark(b *testing.B, vaes bool) {
	saved := useVAES
	defer func() { useVAES = saved }()
	useVAES = useVAES && vaes
	k, _ := New(make([]byte, 32))
	buf := make([]byte, 1<<20)
	var iv [16]byte
	b.SetBytes(1 << 20)
	for i := 0; i < b.N; i++ {
		k.XORKeyStream(buf, buf, &iv)
	}
}

func BenchmarkVAES(b *testing.B)   { benchmark(b, true) }
func BenchmarkStdlib(b *testing.B) { benchmark(b, false) }
