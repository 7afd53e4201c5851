package xts

import (
	"bytes"
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/crypto/xts"
)

// usePath switches the implementation for the rest of the test.
func usePath(tb testing.TB, p string) {
	tb.Helper()
	old := path
	path = p
	tb.Cleanup(func() { path = old })
}

// TestPaths also checks, when TRAVELKIT_XTS_WANT names an implementation, that it is
// the one in use: scripts/test-xts-arm64.sh sets it to armv8 under qemu-user, so that a
// run that fell back to the portable path does not pass for a test of the assembly.
func TestPaths(t *testing.T) {
	t.Logf("implementations on this machine, best first: %v", paths)
	if paths[len(paths)-1] != "xcrypto" {
		t.Fatalf("the portable path (x/crypto/xts) must always be available: %v", paths)
	}
	if want := os.Getenv("TRAVELKIT_XTS_WANT"); want != "" && paths[0] != want {
		t.Fatalf("TRAVELKIT_XTS_WANT=%s, but this build and CPU use %s (all: %v)", want, paths[0], paths)
	}
}

// TestSectorSizes checks every implementation against x/crypto/xts at every sector
// size LUKS2 allows (512 to 4096 bytes) and both key sizes, encrypting and decrypting,
// with the IV step cryptsetup uses (the IV counts 512-byte units) and one that counts
// sectors.
func TestSectorSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range paths {
		usePath(t, p)
		for _, keyLen := range []int{32, 64} {
			key := make([]byte, keyLen)
			fill(rng, key)
			c, err := New(key)
			if err != nil {
				t.Fatal(err)
			}
			ref := newRef(t, key)
			for _, ss := range []int{512, 1024, 2048, 4096} {
				for _, step := range []uint64{uint64(ss / 512), 1} {
					src := make([]byte, 5*ss)
					fill(rng, src)
					tweak := rng.Uint64() >> 8
					want := make([]byte, len(src))
					got := make([]byte, len(src))
					ref.crypt(want, src, ss, tweak, step, false)
					c.EncryptSectors(got, src, ss, tweak, step)
					if !bytes.Equal(got, want) {
						t.Fatalf("%s AES-%d-XTS sector=%d step=%d: encryption differs from x/crypto/xts at byte %d",
							p, keyLen*4, ss, step, firstDiff(got, want))
					}
					ref.crypt(want, src, ss, tweak, step, true)
					c.DecryptSectors(got, src, ss, tweak, step)
					if !bytes.Equal(got, want) {
						t.Fatalf("%s AES-%d-XTS sector=%d step=%d: decryption differs from x/crypto/xts at byte %d",
							p, keyLen*4, ss, step, firstDiff(got, want))
					}
				}
			}
		}
	}
}

func TestKeysLayout(t *testing.T) {
	var k keys
	got := []uintptr{unsafe.Offsetof(k.enc1), unsafe.Offsetof(k.dec1), unsafe.Offsetof(k.enc2), unsafe.Offsetof(k.nr)}
	want := []uintptr{offEnc1, offDec1, offEnc2, offNR}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("keys field offsets are %v; the assembly expects %v", got, want)
		}
	}
}

// FIPS-197 Appendix A: the last round keys of the example expansions.
func TestExpandKey(t *testing.T) {
	for _, tc := range []struct{ key, last string }{
		{"2b7e151628aed2a6abf7158809cf4f3c", "d014f9a8c9ee2589e13f0cc8b6630ca6"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "fe4890d1e6188d0b046df344706c631e"},
	} {
		key, _ := hex.DecodeString(tc.key)
		var rk [240]byte
		nr := expandKey(rk[:], key)
		if got := hex.EncodeToString(rk[16*nr : 16*nr+16]); got != tc.last {
			t.Errorf("key %s: last round key %s, want %s", tc.key, got, tc.last)
		}
		if !bytes.Equal(rk[:len(key)], key) {
			t.Errorf("key %s: the first round keys are not the key", tc.key)
		}
	}
}

func TestSbox(t *testing.T) {
	// A few entries of the FIPS-197 S-box.
	for in, out := range map[byte]byte{0x00: 0x63, 0x01: 0x7c, 0x53: 0xed, 0xff: 0x16, 0x10: 0xca} {
		if got := sbox(in); got != out {
			t.Errorf("sbox(%#02x) = %#02x, want %#02x", in, got, out)
		}
	}
}

type refCipher struct{ c *xts.Cipher }

func newRef(t testing.TB, key []byte) refCipher {
	c, err := xts.NewCipher(aes.NewCipher, key)
	if err != nil {
		t.Fatal(err)
	}
	return refCipher{c}
}

func (r refCipher) crypt(dst, src []byte, ss int, tweak, step uint64, decrypt bool) {
	for i := 0; i < len(src); i += ss {
		if decrypt {
			r.c.Decrypt(dst[i:i+ss], src[i:i+ss], tweak)
		} else {
			r.c.Encrypt(dst[i:i+ss], src[i:i+ss], tweak)
		}
		tweak += step
	}
}

// TestAgainstXCrypto compares every implementation with golang.org/x/crypto/xts, on
// random keys, data, IVs and sector counts, out of place and in place. The odd sector
// sizes reach the per-block tails of the assembly.
func TestAgainstXCrypto(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sectorSizes := []int{16, 32, 48, 112, 128, 144, 240, 256, 272, 496, 512, 528, 1024, 4096}
	for _, p := range paths {
		usePath(t, p)
		for _, keyLen := range []int{32, 64} {
			for _, ss := range sectorSizes {
				for iter := range 6 {
					key := make([]byte, keyLen)
					fill(rng, key)
					c, err := New(key)
					if err != nil {
						t.Fatal(err)
					}
					ref := newRef(t, key)
					n := 1 + rng.IntN(9)
					if ss >= 4096 {
						n = 1 + rng.IntN(3)
					}
					src := make([]byte, n*ss)
					fill(rng, src)
					tweak, step := rng.Uint64(), []uint64{1, 8, rng.Uint64()}[iter%3]
					if iter == 5 {
						tweak = ^uint64(0) - 2 // wraps at 2^64 within the buffer
					}
					name := fmt.Sprintf("%s key=%d sector=%d n=%d tweak=%#x step=%d", p, keyLen, ss, n, tweak, step)

					want := make([]byte, len(src))
					ref.crypt(want, src, ss, tweak, step, false)
					got := make([]byte, len(src)+16)
					c.EncryptSectors(got, src, ss, tweak, step)
					if !bytes.Equal(got[:len(src)], want) {
						t.Fatalf("%s: encryption differs from x/crypto/xts at byte %d", name, firstDiff(got, want))
					}
					if !bytes.Equal(got[len(src):], make([]byte, 16)) {
						t.Fatalf("%s: encryption wrote past len(src)", name)
					}
					inPlace := bytes.Clone(src)
					c.EncryptSectors(inPlace, inPlace, ss, tweak, step)
					if !bytes.Equal(inPlace, want) {
						t.Fatalf("%s: in-place encryption differs from x/crypto/xts", name)
					}

					// Decrypt random data too, not just our own output.
					fill(rng, src)
					ref.crypt(want, src, ss, tweak, step, true)
					c.DecryptSectors(got, src, ss, tweak, step)
					if !bytes.Equal(got[:len(src)], want) {
						t.Fatalf("%s: decryption differs from x/crypto/xts at byte %d", name, firstDiff(got, want))
					}
					c.DecryptSectors(src, src, ss, tweak, step)
					if !bytes.Equal(src, want) {
						t.Fatalf("%s: in-place decryption differs from x/crypto/xts", name)
					}
				}
			}
		}
	}
}

// TestPathsAgree runs a larger buffer through every implementation.
func TestPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 256<<10)
	fill(rng, src)
	for _, keyLen := range []int{32, 64} {
		key := make([]byte, keyLen)
		fill(rng, key)
		c, _ := New(key)
		for _, ss := range []int{512, 4096} {
			var first []byte
			for _, p := range paths {
				usePath(t, p)
				out := make([]byte, len(src))
				c.EncryptSectors(out, src, ss, 1000, uint64(ss/512))
				if first == nil {
					first = bytes.Clone(out)
				} else if !bytes.Equal(out, first) {
					t.Fatalf("key=%d sector=%d: %s and %s differ at byte %d", keyLen, ss, paths[0], p, firstDiff(out, first))
				}
				c.DecryptSectors(out, out, ss, 1000, uint64(ss/512))
				if !bytes.Equal(out, src) {
					t.Fatalf("key=%d sector=%d: %s: decryption does not invert encryption", keyLen, ss, p)
				}
			}
		}
	}
}

// TestLargeBuffers crosses the maxChunk boundary between assembly calls, including
// sectors larger than maxChunk.
func TestLargeBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	key := make([]byte, 64)
	fill(rng, key)
	c, _ := New(key)
	ref := newRef(t, key)
	for _, tc := range []struct{ ss, n int }{{4096, 2*maxChunk/4096 + 3}, {512, maxChunk/512 + 1}, {maxChunk + 512, 2}} {
		src := make([]byte, tc.ss*tc.n)
		fill(rng, src)
		want := make([]byte, len(src))
		tweak := ^uint64(0) - uint64(tc.n/2)
		ref.crypt(want, src, tc.ss, tweak, 1, false)
		for _, p := range paths {
			usePath(t, p)
			got := make([]byte, len(src))
			c.EncryptSectors(got, src, tc.ss, tweak, 1)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s sector=%d n=%d: differs from x/crypto/xts at byte %d", p, tc.ss, tc.n, firstDiff(got, want))
			}
			c.DecryptSectors(got, got, tc.ss, tweak, 1)
			if !bytes.Equal(got, src) {
				t.Fatalf("%s sector=%d n=%d: decryption does not invert encryption", p, tc.ss, tc.n)
			}
		}
	}
}

// FuzzAgainstXCrypto compares the default implementation with x/crypto/xts.
func FuzzAgainstXCrypto(f *testing.F) {
	f.Add(make([]byte, 64), uint64(0), uint64(1), uint16(1), []byte("0123456789abcdef"))
	f.Add(bytes.Repeat([]byte{7}, 32), ^uint64(0), uint64(8), uint16(3), bytes.Repeat([]byte{9}, 16*17*3))
	f.Fuzz(func(t *testing.T, key []byte, tweak, step uint64, sectors uint16, data []byte) {
		if len(key) != 32 && len(key) != 64 || sectors == 0 {
			return
		}
		n := int(sectors%64) + 1
		ss := len(data) / n &^ 15
		if ss == 0 {
			return
		}
		data = data[:ss*n]
		c, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, len(data))
		newRef(t, key).crypt(want, data, ss, tweak, step, false)
		got := make([]byte, len(data))
		c.EncryptSectors(got, data, ss, tweak, step)
		if !bytes.Equal(got, want) {
			t.Fatalf("sector=%d n=%d: differs from x/crypto/xts at byte %d", ss, n, firstDiff(got, want))
		}
		c.DecryptSectors(got, got, ss, tweak, step)
		if !bytes.Equal(got, data) {
			t.Fatal("decryption does not invert encryption")
		}
	})
}

// TestConcurrent uses one Cipher from several goroutines, as the luks package does.
func TestConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	key := make([]byte, 64)
	fill(rng, key)
	c, _ := New(key)
	src := make([]byte, 64<<10)
	fill(rng, src)
	want := make([]byte, len(src))
	c.EncryptSectors(want, src, 4096, 0, 8)
	done := make(chan error)
	for g := range 4 {
		go func() {
			out := make([]byte, len(src))
			for range 20 {
				// Each goroutine does its own part of the buffer, as the luks package does.
				a := g * len(src) / 4
				c.EncryptSectors(out[a:a+len(src)/4], src[a:a+len(src)/4], 4096, uint64(a/4096)*8, 8)
				if !bytes.Equal(out[a:a+len(src)/4], want[a:a+len(src)/4]) {
					done <- fmt.Errorf("goroutine %d: wrong output", g)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestOpenSSL checks one 512-byte sector of each key size against OpenSSL. OpenSSL 3's
// `openssl enc` refuses XTS ("XTS ciphers not supported"), so when it does the test
// checks against OpenSSL in two other ways: its XTS through python3-cryptography
// (which uses OpenSSL's EVP aes-*-xts), and its CLI AES-ECB composed by hand into
// XTS (tweak = E_K2(IV); C_j = E_K1(P_j ^ T_j) ^ T_j, T_j = T * x^j).
func TestOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is needed for this test (scripts/install-test-deps.sh installs it)")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	for _, keyLen := range []int{32, 64} {
		key := make([]byte, keyLen)
		fill(rng, key)
		pt := make([]byte, 512)
		fill(rng, pt)
		sector := rng.Uint64()
		var iv [16]byte
		binary.LittleEndian.PutUint64(iv[:], sector)
		in := filepath.Join(dir, "in")
		if err := os.WriteFile(in, pt, 0o600); err != nil {
			t.Fatal(err)
		}
		c, _ := New(key)
		got := make([]byte, 512)

		var wants [][]byte
		var from []string
		alg := fmt.Sprintf("-aes-%d-xts", keyLen*4)
		// The keys go on the command line: they are random test keys.
		cmd := exec.Command(bin, "enc", alg, "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(iv[:]), "-in", in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		switch {
		case err == nil:
			wants, from = append(wants, out), append(from, "openssl enc "+alg)
		case strings.Contains(stderr.String(), "XTS ciphers not supported"):
			t.Logf("openssl enc %s: XTS ciphers not supported; using python3-cryptography and AES-ECB", alg)
			wants = append(wants, opensslXTSPython(t, key, iv[:], pt), opensslECBComposed(t, bin, key, iv[:], pt, dir))
			from = append(from, "OpenSSL XTS via python3-cryptography", "openssl enc AES-ECB composed into XTS")
		default:
			t.Fatalf("openssl enc %s: %v: %s", alg, err, stderr.Bytes())
		}
		for _, p := range paths {
			usePath(t, p)
			c.EncryptSectors(got, pt, 512, sector, 1)
			for i, want := range wants {
				if !bytes.Equal(got, want) {
					t.Errorf("%s AES-%d-XTS: differs from %s at byte %d", p, keyLen*4, from[i], firstDiff(got, want))
				}
			}
		}
	}
}

func opensslXTSPython(t *testing.T, key, iv, pt []byte) []byte {
	t.Helper()
	const prog = `import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key, iv, pt = (bytes.fromhex(x) for x in sys.stdin.read().split())
e = Cipher(algorithms.AES(key), modes.XTS(iv)).encryptor()
sys.stdout.write((e.update(pt) + e.finalize()).hex())
`
	cmd := exec.Command("python3", "-c", prog)
	cmd.Stdin = strings.NewReader(hex.EncodeToString(key) + " " + hex.EncodeToString(iv) + " " + hex.EncodeToString(pt))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-cryptography XTS (scripts/install-test-deps.sh installs it): %v", err)
	}
	ct, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil || len(ct) != len(pt) {
		t.Fatalf("python3-cryptography XTS: bad output %q", out)
	}
	return ct
}

func opensslECBComposed(t *testing.T, bin string, key, iv, pt []byte, dir string) []byte {
	t.Helper()
	half := len(key) / 2
	alg := fmt.Sprintf("-aes-%d-ecb", half*8)
	ecb := func(k, data []byte) []byte {
		f := filepath.Join(dir, "ecb")
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "enc", alg, "-nopad", "-K", hex.EncodeToString(k), "-in", f).Output()
		if err != nil || len(out) != len(data) {
			t.Fatalf("openssl enc %s: %v", alg, err)
		}
		return out
	}
	tw := ecb(key[half:], iv)
	lo, hi := binary.LittleEndian.Uint64(tw), binary.LittleEndian.Uint64(tw[8:])
	tws := make([]byte, len(pt))
	for j := 0; j < len(pt); j += 16 {
		binary.LittleEndian.PutUint64(tws[j:], lo)
		binary.LittleEndian.PutUint64(tws[j+8:], hi)
		carry := hi >> 63
		hi = hi<<1 | lo>>63
		lo = lo<<1 ^ 0x87&-carry
	}
	x := make([]byte, len(pt))
	for i := range x {
		x[i] = pt[i] ^ tws[i]
	}
	x = ecb(key[:half], x)
	for i := range x {
		x[i] ^= tws[i]
	}
	return x
}

func TestMisuse(t *testing.T) {
	if _, err := New(make([]byte, 48)); err == nil || !strings.Contains(err.Error(), "48 bytes") {
		t.Errorf("New with a 48-byte key: err = %v", err)
	}
	c, _ := New(make([]byte, 64))
	buf := make([]byte, 4096)
	for _, tc := range []struct {
		name     string
		f        func()
		contains string
	}{
		{"sector size 0", func() { c.EncryptSectors(buf, buf, 0, 0, 1) }, "sector size"},
		{"sector size 24", func() { c.EncryptSectors(buf, buf, 24, 0, 1) }, "sector size"},
		{"partial sector", func() { c.DecryptSectors(buf, buf[:1000], 512, 0, 1) }, "whole number"},
		{"short dst", func() { c.EncryptSectors(buf[:512], buf, 512, 0, 1) }, "shorter"},
		{"overlap", func() { c.EncryptSectors(buf[16:], buf[:1024], 512, 0, 1) }, "overlap"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.contains) {
					t.Errorf("%s: panic %v, want one mentioning %q", tc.name, r, tc.contains)
				}
			}()
			tc.f()
		}()
	}
	// Empty input is fine.
	c.EncryptSectors(nil, nil, 512, 0, 1)

	c.Wipe()
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("use after Wipe did not panic")
			}
		}()
		c.EncryptSectors(buf, buf, 512, 0, 1)
	}()
}

func TestWipe(t *testing.T) {
	key := bytes.Repeat([]byte{0xa5}, 64)
	c, _ := New(key)
	k := c.k
	c.Wipe()
	if *k != (keys{}) {
		t.Error("Wipe left key material behind")
	}
	c.Wipe() // twice is harmless
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Benchmarks: 4 KiB sectors (LUKS2's default, IV step 8) over a 1 MiB buffer, for
// both key sizes and each implementation this machine has. The first path listed for
// each key size is the one the package uses by default. Besides MB/s (wall clock) they
// report cpuMB/s, bytes per CPU second of the process, which a busy machine disturbs
// less (with -cpu 1 nothing else runs in the process).

func BenchmarkEncrypt(b *testing.B) { benchmark(b, 4096, []int{32, 64}, false) }
func BenchmarkDecrypt(b *testing.B) { benchmark(b, 4096, []int{32, 64}, true) }

// BenchmarkSectors512 is AES-256-XTS with 512-byte sectors, where the per-sector work
// (encrypting the IV, setting up the tweaks) weighs more.
func BenchmarkSectors512(b *testing.B) {
	b.Run("Encrypt", func(b *testing.B) { benchmark(b, 512, []int{64}, false) })
	b.Run("Decrypt", func(b *testing.B) { benchmark(b, 512, []int{64}, true) })
}

func benchmark(b *testing.B, sectorSize int, keyLens []int, decrypt bool) {
	buf := make([]byte, 1<<20)
	step := uint64(sectorSize / 512)
	for _, keyLen := range keyLens {
		for _, p := range paths {
			name := fmt.Sprintf("AES-%d-XTS/%s", keyLen*4, p)
			b.Run(name, func(b *testing.B) {
				usePath(b, p)
				c, _ := New(bytes.Repeat([]byte{1, 2, 3, 4}, keyLen/4))
				b.SetBytes(int64(len(buf)))
				cpu0 := processCPUTime()
				for b.Loop() {
					if decrypt {
						c.DecryptSectors(buf, buf, sectorSize, 0, step)
					} else {
						c.EncryptSectors(buf, buf, sectorSize, 0, step)
					}
				}
				if cpu := processCPUTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(b.N)*float64(len(buf))/cpu.Seconds()/1e6, "cpuMB/s")
				}
			})
		}
	}
}
