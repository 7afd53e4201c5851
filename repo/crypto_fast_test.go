package repo

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	fastpoly "travelkit/internal/poly1305"
)

// TestOpenDespiteBrokenFastMAC: should the fast Poly1305 ever compute a wrong tag,
// Open still opens every good blob (the tag is recomputed with x/crypto before a blob
// is called bad), and a damaged blob is still refused.
func TestOpenDespiteBrokenFastMAC(t *testing.T) {
	k := NewRandomKey()
	rng := rand.New(rand.NewSource(1))
	saved := fastMAC
	t.Cleanup(func() { fastMAC = saved })
	for _, n := range []int{0, 1, 255, 256, 4096, 1 << 20} {
		plain := make([]byte, n)
		rng.Read(plain)
		sealed := k.Seal(nil, plain)
		for _, broken := range []bool{false, true} {
			calls := 0
			fastMAC = func(out *[16]byte, m []byte, key *[32]byte) {
				calls++
				fastpoly.Sum(out, m, key)
				if broken {
					out[3] ^= 0x10
				}
			}
			got, err := k.Open(nil, sealed)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes, fast MAC broken %v: %v", n, broken, err)
			}
			if calls != 1 {
				t.Fatalf("%d bytes: the fast MAC ran %d times, want 1 (it must be tried first)", n, calls)
			}
			bad := append([]byte(nil), sealed...)
			bad[len(bad)/2] ^= 1
			if _, err := k.Open(nil, bad); !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("%d bytes, fast MAC broken %v: a damaged blob: %v", n, broken, err)
			}
		}
	}
}

// TestFastMACMatchesXCrypto: the key's prepared fast MAC gives x/crypto's tags itself
// (so Open does not quietly live on the fallback).
func TestFastMACMatchesXCrypto(t *testing.T) {
	k := NewRandomKey()
	rng := rand.New(rand.NewSource(2))
	iv := make([]byte, ivSize)
	for _, n := range []int{0, 100, 2047, 2048, 4096, 5000, 1 << 20, 3<<20 + 5} {
		msg := make([]byte, n)
		rng.Read(msg)
		rng.Read(iv)
		want := k.mac(iv, msg)
		var pk [32]byte
		copy(pk[:16], k.MACR[:])
		k.macBlock.Encrypt(pk[16:], iv)
		var got [16]byte
		k.poly.Sum(&got, msg, (*[16]byte)(pk[16:]))
		if got != want {
			t.Fatalf("%d bytes: fast tag %x, x/crypto %x", n, got, want)
		}
	}
}
