package repo

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/restic/chunker"
)

// splitAll cuts data the way the archiver does, with reads of step bytes.
func splitAll(c *cutter, data []byte, step int) []int {
	var lens []int
	for len(data) > 0 {
		scanned := 0
		n := min(len(data), chunkMin+step)
		l := 0
		for {
			l = c.cut(data[:n], scanned+1)
			if l > 0 || n == len(data) {
				break
			}
			scanned = n
			n = min(len(data), n+step)
		}
		if l == 0 {
			l = n
		}
		lens = append(lens, l)
		data = data[l:]
	}
	return lens
}

func resticSplit(t *testing.T, pol chunker.Pol, data []byte) []int {
	ch := chunker.New(bytes.NewReader(data), pol)
	var lens []int
	buf := make([]byte, chunker.MaxSize)
	for {
		c, err := ch.Next(buf)
		if err == io.EOF {
			return lens
		}
		if err != nil {
			t.Fatal(err)
		}
		lens = append(lens, int(c.Length))
	}
}

// The cutter cuts exactly where restic's chunker does, for random data, long
// runs of zeros (cut at the minimum), data without any cut (cut at the
// maximum) and several polynomials and read sizes.
func TestChunkerMatchesRestic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 40<<20)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	zeros := make([]byte, 5<<20)
	mixed := append(append(append([]byte(nil), random[:3<<20]...), zeros...), random[7<<20:9<<20]...)
	// a repeating 64-byte pattern whose window fingerprint never has 20 low zero bits
	var pat []byte
	for seed := uint64(0); ; seed++ {
		pr := rand.New(rand.NewPCG(seed, 9))
		p := make([]byte, 64)
		for i := range p {
			p[i] = byte(pr.Uint32())
		}
		pat = bytes.Repeat(p, (20<<20)/64)
		c := newCutter(chunker.Pol(0x3DA3358B4DC173))
		if c.search(pat, 65, 64*70) == 0 {
			break
		}
	}
	inputs := map[string][]byte{"random": random, "zeros": zeros, "mixed": mixed, "pattern": pat,
		"short": random[:1000], "min": random[:chunkMin], "min+1": random[:chunkMin+1], "empty": nil}
	for i := 0; i < 3; i++ {
		pol, err := chunker.RandomPolynomial()
		if err != nil {
			t.Fatal(err)
		}
		c := newCutter(pol)
		for name, data := range inputs {
			want := resticSplit(t, pol, data)
			for _, step := range []int{256 << 10, 1 << 20, 3<<20 + 17} {
				got := splitAll(c, data, step)
				if len(data) == 0 {
					got = nil
				}
				if !equalInts(got, want) {
					t.Fatalf("pol %x, %s, step %d: got %d chunks %v, restic %d chunks %v", pol, name, step, len(got), head(got), len(want), head(want))
				}
			}
			if name == "random" && len(want) < 10 {
				t.Fatalf("only %d chunks in 40 MiB of random data", len(want))
			}
		}
	}
}

func head(x []int) []int { return x[:min(len(x), 8)] }

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkChunker(b *testing.B) {
	data := make([]byte, 64<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	pol := chunker.Pol(0x3DA3358B4DC173)
	b.Run("travelkit", func(b *testing.B) {
		c := newCutter(pol)
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			splitAll(c, data, 256<<10)
		}
	})
	b.Run("restic", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, chunker.MaxSize)
		for i := 0; i < b.N; i++ {
			ch := chunker.New(bytes.NewReader(data), pol)
			for {
				if _, err := ch.Next(buf); err != nil {
					break
				}
			}
		}
	})
}

// Files whose sizes sit at the chunk bounds (chunkMin and chunkMax, and 1 or
// 64 bytes either side) cut where restic's chunker cuts them, for a
// polynomial of degree 53 (span53, what restic makes) and one of another
// degree (searchFour: a repository's config may hold any polynomial).
func TestChunkerBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 3*chunkMax)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	zeros := make([]byte, 3*chunkMax)
	// an irreducible polynomial of degree 47
	var pol47 chunker.Pol
	for pr := rand.New(rand.NewPCG(7, 8)); ; {
		p := chunker.Pol(1<<47 | pr.Uint64()&(1<<47-1) | 1)
		if p.Irreducible() {
			pol47 = p
			break
		}
	}
	for _, pol := range []chunker.Pol{0x3DA3358B4DC173, pol47} {
		c := newCutter(pol)
		if pol.Deg() == 53 && c.shift != resticShift || pol.Deg() != 53 && c.shift == resticShift {
			t.Fatalf("pol %v: shift %d", pol, c.shift)
		}
		for _, base := range []int{chunkMin, chunkMax, 2 * chunkMin, chunkMin + chunkMax} {
			for _, delta := range []int{-64, -1, 0, 1, 64} {
				size := base + delta
				for name, data := range map[string][]byte{"random": random[:size], "zeros": zeros[:size]} {
					want := resticSplit(t, pol, data)
					for _, step := range []int{256 << 10, 1 << 20} {
						if got := splitAll(c, data, step); !equalInts(got, want) {
							t.Fatalf("pol %v, %s of %d bytes, step %d: got %v, restic %v", pol, name, size, step, head(got), head(want))
						}
					}
				}
			}
		}
	}
}
