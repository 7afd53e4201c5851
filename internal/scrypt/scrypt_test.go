package scrypt

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	xscrypt "golang.org/x/crypto/scrypt"
)

// eachPath runs f once for every implementation this CPU can run.
func eachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := path
	t.Cleanup(func() { path = saved })
	for _, p := range paths {
		path = p
		t.Run(p, f)
	}
	path = saved
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestRFC7914: the test vectors of RFC 7914, section 12, but its fourth (N=2^20: 1 GiB
// of memory per run, too much beside the other packages' tests).
func TestRFC7914(t *testing.T) {
	vectors := []struct {
		password, salt string
		N, r, p        int
		want           string
	}{
		{"", "", 16, 1, 1, "77 d6 57 62 38 65 7b 20 3b 19 ca 42 c1 8a 04 97 f1 6b 48 44 e3 07 4a e8 df df fa 3f ed e2 14 42 fc d0 06 9d ed 09 48 f8 32 6a 75 3a 0f c8 1f 17 e8 d3 e0 fb 2e 0d 36 28 cf 35 e2 0c 38 d1 89 06"},
		{"password", "NaCl", 1024, 8, 16, "fd ba be 1c 9d 34 72 00 78 56 e7 19 0d 01 e9 fe 7c 6a d7 cb c8 23 78 30 e7 73 76 63 4b 37 31 62 2e af 30 d9 2e 22 a3 88 6f f1 09 27 9d 98 30 da c7 27 af b9 4a 83 ee 6d 83 60 cb df a2 cc 06 40"},
		{"pleaseletmein", "SodiumChloride", 16384, 8, 1, "70 23 bd cb 3a fd 73 48 46 1c 06 cd 81 fd 38 eb fd a8 fb ba 90 4f 8e 3e a9 b5 43 f6 54 5d a1 f2 d5 43 29 55 61 3f 0f cf 62 d4 97 05 24 2a 9a f9 e6 1e 85 dc 0d 65 1e 40 df cf 01 7b 45 57 58 87"},
	}
	eachPath(t, func(t *testing.T) {
		for _, v := range vectors {
			got, err := Key([]byte(v.password), []byte(v.salt), v.N, v.r, v.p, 64)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(v.want); !bytes.Equal(got, want) {
				t.Errorf("N=%d r=%d p=%d: got %x, want %x", v.N, v.r, v.p, got, want)
			}
		}
	})
}

// TestAgainstXCrypto: many random passwords and salts, and several N, r, p (r=1, 8, 16,
// p>1, small N, restic's N=32768 r=8), give exactly what golang.org/x/crypto/scrypt gives.
func TestAgainstXCrypto(t *testing.T) {
	params := []struct{ N, r, p, n int }{
		{2, 1, 1, 200}, {4, 1, 3, 100}, {16, 1, 1, 100}, {16, 2, 2, 50}, {64, 3, 1, 50},
		{256, 8, 1, 30}, {1024, 8, 2, 10}, {128, 16, 1, 20}, {512, 16, 3, 5}, {8, 5, 7, 20},
		{1 << 15, 8, 1, 2},
	}
	rng := rand.New(rand.NewPCG(14, 21))
	random := func(max int) []byte {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	type tcase struct {
		pw, salt, want  []byte
		N, r, p, keyLen int
	}
	var cases []tcase
	for _, pr := range params {
		for i := 0; i < pr.n; i++ {
			c := tcase{pw: random(80), salt: random(80), N: pr.N, r: pr.r, p: pr.p, keyLen: 1 + rng.IntN(100)}
			var err error
			if c.want, err = xscrypt.Key(c.pw, c.salt, c.N, c.r, c.p, c.keyLen); err != nil {
				t.Fatal(err)
			}
			cases = append(cases, c)
		}
	}
	eachPath(t, func(t *testing.T) {
		for _, c := range cases {
			got, err := Key(c.pw, c.salt, c.N, c.r, c.p, c.keyLen)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.want) {
				t.Fatalf("N=%d r=%d p=%d password %x salt %x: got %x, want %x", c.N, c.r, c.p, c.pw, c.salt, got, c.want)
			}
		}
	})
}

// TestBadParameters: the same refusals as golang.org/x/crypto/scrypt, before any
// allocation.
func TestBadParameters(t *testing.T) {
	bad := []struct{ N, r, p int }{
		{0, 1, 1}, {1, 1, 1}, {3, 1, 1}, {-4, 1, 1}, {16, 0, 1}, {16, 1, 0}, {16, -1, 1},
		{16, 1 << 15, 1 << 15}, {16, math.MaxInt / 2, 1}, {math.MaxInt>>1 + 1, 8, 1},
		{1 << 20, math.MaxInt >> 20, 1}, {math.MaxInt>>8 + 1, 2, 1},
	}
	eachPath(t, func(t *testing.T) {
		for _, b := range bad {
			if k, err := Key([]byte("pw"), []byte("salt"), b.N, b.r, b.p, 32); err == nil || k != nil {
				t.Errorf("N=%d r=%d p=%d: no error", b.N, b.r, b.p)
			}
			if _, err := xscrypt.Key([]byte("pw"), []byte("salt"), b.N, b.r, b.p, 32); err == nil {
				t.Errorf("N=%d r=%d p=%d: x/crypto takes it, the test is wrong", b.N, b.r, b.p)
			}
		}
	})
}

// FuzzAgainstXCrypto: any password, salt and small N, r, p give x/crypto's key.
func FuzzAgainstXCrypto(f *testing.F) {
	f.Add([]byte("password"), []byte("NaCl"), uint8(4), uint8(8), uint8(2), uint8(64))
	f.Add([]byte(""), []byte(""), uint8(1), uint8(1), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, pw, salt []byte, logN, r, p, keyLen uint8) {
		// bounded so that one input costs at most 128*2^10*16*4 bytes of work
		N := 1 << (1 + int(logN)%10)
		rr, pp, kl := 1+int(r)%16, 1+int(p)%4, 1+int(keyLen)
		for _, path = range paths {
			got, err := Key(pw, salt, N, rr, pp, kl)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := xscrypt.Key(pw, salt, N, rr, pp, kl)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: N=%d r=%d p=%d: got %x, want %x", path, N, rr, pp, got, want)
			}
		}
		path = paths[0]
	})
}

var sink []byte

// BenchmarkKey: restic's parameters (N=32768, r=8, p=1), each path.
func BenchmarkKey(b *testing.B) {
	saved := path
	defer func() { path = saved }()
	for _, p := range paths {
		path = p
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k, err := Key([]byte("password"), []byte("0123456789abcdef0123456789abcdef"), 1<<15, 8, 1, 64)
				if err != nil {
					b.Fatal(err)
				}
				sink = k
			}
		})
	}
}
