package poly1305

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand"
	"testing"

	xpoly "golang.org/x/crypto/poly1305"
)

// impls are the ways to compute a tag this build has, each path's Sum and vector
// code (at any length) and the Go code alone; each must equal x/crypto's.
func impls() map[string]func(*[16]byte, []byte, *[32]byte) {
	m := map[string]func(*[16]byte, []byte, *[32]byte){
		"scalar": sumScalar,
	}
	for _, p := range paths {
		p := p
		m["Sum/"+p] = func(out *[16]byte, msg []byte, key *[32]byte) {
			defer setPath(p)()
			Sum(out, msg, key)
		}
		if p != "xcrypto" {
			lanes := 4
			if p == "avx512" {
				lanes = 8
			}
			m["vector/"+p] = func(out *[16]byte, msg []byte, key *[32]byte) {
				sumVector(out, msg, key, lanes)
			}
			m["MACKey/"+p] = func(out *[16]byte, msg []byte, key *[32]byte) {
				defer setPath(p)()
				NewMACKey((*[16]byte)(key[:16])).Sum(out, msg, (*[16]byte)(key[16:]))
			}
		}
	}
	return m
}

// setPath selects an implementation and returns what puts the previous one back.
func setPath(p string) func() {
	saved := path
	path = p
	return func() { path = saved }
}

// TestPaths names the paths the other tests ran on this machine.
func TestPaths(t *testing.T) {
	t.Logf("paths on this machine: %v", paths)
	if paths[len(paths)-1] != "xcrypto" {
		t.Fatalf("x/crypto is not the last path: %v", paths)
	}
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func check(t *testing.T, name string, f func(*[16]byte, []byte, *[32]byte), m []byte, key *[32]byte) {
	t.Helper()
	var got, want [16]byte
	f(&got, m, key)
	xpoly.Sum(&want, m, key)
	if got != want {
		t.Fatalf("%s: length %d key %x: tag %x, x/crypto %x", name, len(m), key[:], got, want)
	}
}

// RFC 8439 section 2.5.2, and the edge cases of its appendix A.3 (numbers 5-11: sums
// that reach or pass 2^130-5), each with the tag the RFC gives.
func TestRFC8439(t *testing.T) {
	vectors := []struct{ key, msg, tag string }{
		{"85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
			hex.EncodeToString([]byte("Cryptographic Forum Research Group")),
			"a8061dc1305136c6c22b8baf0c0127a9"},
		{"02000000000000000000000000000000" + "00000000000000000000000000000000",
			"ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000"},
		{"02000000000000000000000000000000" + "ffffffffffffffffffffffffffffffff",
			"02000000000000000000000000000000", "03000000000000000000000000000000"},
		{"01000000000000000000000000000000" + "00000000000000000000000000000000",
			"ffffffffffffffffffffffffffffffff" + "f0ffffffffffffffffffffffffffffff" + "11000000000000000000000000000000",
			"05000000000000000000000000000000"},
		{"01000000000000000000000000000000" + "00000000000000000000000000000000",
			"ffffffffffffffffffffffffffffffff" + "fbfefefefefefefefefefefefefefefe" + "01010101010101010101010101010101",
			"00000000000000000000000000000000"},
		{"02000000000000000000000000000000" + "00000000000000000000000000000000",
			"fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff"},
		{"01000000000000000400000000000000" + "00000000000000000000000000000000",
			"e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000",
			"14000000000000005500000000000000"},
		{"01000000000000000400000000000000" + "00000000000000000000000000000000",
			"e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
			"13000000000000000000000000000000"},
	}
	for i, v := range vectors {
		var key [32]byte
		copy(key[:], unhex(t, v.key))
		msg := unhex(t, v.msg)
		want := unhex(t, v.tag)
		var ref [16]byte
		xpoly.Sum(&ref, msg, &key)
		if !bytes.Equal(ref[:], want) {
			t.Fatalf("vector %d: x/crypto says %x, the RFC %x", i, ref, want)
		}
		for name, f := range impls() {
			check(t, name, f, msg, &key)
		}
	}
}

// keys gives random keys and the extremes (r and s all ones before clamping, r = 0).
func keys(rng *rand.Rand) []*[32]byte {
	var ones, zeroR, rnd [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	copy(zeroR[16:], ones[16:])
	rng.Read(rnd[:])
	return []*[32]byte{&ones, &zeroR, &rnd}
}

// Every length 0-1100, random and all-ones messages, random and extreme keys, at
// every alignment 0-7 for some of them.
func TestAgainstXCryptoEveryLength(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, 1100+8)
	ff := bytes.Repeat([]byte{0xff}, 1100)
	for n := 0; n <= 1100; n++ {
		rng.Read(buf)
		off := n % 8
		for _, key := range keys(rng) {
			for name, f := range impls() {
				check(t, name, f, buf[off:off+n], key)
				check(t, name, f, ff[:n], key)
			}
		}
	}
}

// Random lengths up to 5 MiB with random keys; some end in a partial block.
func TestAgainstXCryptoLong(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	big := make([]byte, 5<<20+3)
	rng.Read(big)
	count := 24
	if testing.Short() {
		count = 6
	}
	for i := 0; i < count; i++ {
		n := rng.Intn(5 << 20)
		if i%3 == 0 {
			n = n&^63 + 64 - 1 - rng.Intn(15) // a partial last block
		}
		off := rng.Intn(3)
		var key [32]byte
		rng.Read(key[:])
		for name, f := range impls() {
			check(t, name, f, big[off:off+n], &key)
		}
	}
}

func TestVerify(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	m := make([]byte, 4096+5)
	rng.Read(m)
	var key [32]byte
	rng.Read(key[:])
	var tag [16]byte
	xpoly.Sum(&tag, m, &key)
	if !Verify(&tag, m, &key) {
		t.Fatal("Verify refused the right tag")
	}
	m[100] ^= 1
	if Verify(&tag, m, &key) {
		t.Fatal("Verify accepted a changed message")
	}
}

// On the x/crypto path (a CPU without AVX2, other architectures) Sum is x/crypto's.
func TestXCryptoPath(t *testing.T) {
	defer setPath("xcrypto")()
	rng := rand.New(rand.NewSource(4))
	m := make([]byte, 10000)
	rng.Read(m)
	var key [32]byte
	rng.Read(key[:])
	check(t, "Sum without AVX2", Sum, m, &key)
}

func FuzzAgainstXCrypto(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 300))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 1000))
	f.Fuzz(func(t *testing.T, k, m []byte) {
		var key [32]byte
		copy(key[:], k)
		for name, fn := range impls() {
			check(t, name, fn, m, &key)
		}
	})
}

func benchSum(b *testing.B, f func(*[16]byte, []byte, *[32]byte), n int) {
	m := make([]byte, n)
	var key [32]byte
	key[0] = 1
	var out [16]byte
	b.SetBytes(int64(n))
	for i := 0; i < b.N; i++ {
		f(&out, m, &key)
	}
}

// BenchmarkCrossover: where the vector code starts to beat x/crypto (minAVX2,
// minAVX512), with the r part prepared once as repo does.
func BenchmarkCrossover(b *testing.B) {
	var key [32]byte
	key[0] = 1
	for _, n := range []int{256, 512, 1024, 2048, 4096, 8192} {
		for _, p := range paths {
			b.Run(fmt.Sprint(p, "/", n), func(b *testing.B) {
				defer setPath(p)()
				m := make([]byte, n)
				k := NewMACKey((*[16]byte)(key[:16]))
				var out [16]byte
				b.SetBytes(int64(n))
				for i := 0; i < b.N; i++ {
					if p == "xcrypto" {
						xpoly.Sum(&out, m, &key)
						continue
					}
					lanes := 4
					if p == "avx512" {
						lanes = 8
					}
					k.sumVector(&out, m, (*[16]byte)(key[16:]), lanes)
				}
			})
		}
	}
}

func BenchmarkAVX2_1M(b *testing.B) {
	if len(paths) < 2 {
		b.Skip("no vector path")
	}
	defer setPath(paths[len(paths)-2])()
	benchSum(b, Sum, 1<<20)
}

func BenchmarkSum4K(b *testing.B)      { benchSum(b, Sum, 4<<10) }
func BenchmarkSum64K(b *testing.B)     { benchSum(b, Sum, 64<<10) }
func BenchmarkSum1M(b *testing.B)      { benchSum(b, Sum, 1<<20) }
func BenchmarkXCrypto4K(b *testing.B)  { benchSum(b, SumReference, 4<<10) }
func BenchmarkXCrypto64K(b *testing.B) { benchSum(b, SumReference, 64<<10) }
func BenchmarkXCrypto1M(b *testing.B)  { benchSum(b, SumReference, 1<<20) }

// Over 64 MiB one MiB at a time: the data is not in the caches.
func benchCold(b *testing.B, f func(*[16]byte, []byte, *[32]byte)) {
	m := make([]byte, 64<<20)
	var key [32]byte
	key[0] = 1
	var out [16]byte
	b.SetBytes(1 << 20)
	for i := 0; i < b.N; i++ {
		o := (i % 64) << 20
		f(&out, m[o:o+1<<20], &key)
	}
}

func BenchmarkSumCold1M(b *testing.B)     { benchCold(b, Sum) }
func BenchmarkXCryptoCold1M(b *testing.B) { benchCold(b, SumReference) }
