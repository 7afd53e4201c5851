package repo

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"strings"
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

// splitAllSplit is splitAll with the search spread over parts goroutines.
func splitAllSplit(c *cutter, data []byte, step, parts int) []int {
	var lens []int
	for len(data) > 0 {
		scanned := 0
		n := min(len(data), chunkMin+step)
		l := 0
		for {
			l = c.cutSplit(data[:n], scanned+1, parts)
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

func pcgBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 77))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// candidates returns every length l in [65, len(b)] at which the window
// b[l-64:l] is a cut candidate, one byte at a time.
func candidates(c *cutter, b []byte) []int {
	var out []int
	for from := 65; from <= len(b); {
		l := c.lane(b, from-1, len(b))
		if l == 0 {
			break
		}
		out = append(out, l)
		from = l + 1
	}
	return out
}

// Chunking with the search spread over several goroutines cuts exactly where
// the one-goroutine cutter (and so restic) does: random data of many seeds
// and lengths around the minimum and maximum chunk sizes, runs of zeros,
// data with no candidate at all, for several part counts and read steps.
func TestCutSplitMatchesCut(t *testing.T) {
	pol := chunker.Pol(0x3DA3358B4DC173)
	c := newCutter(pol)
	var inputs [][]byte
	for seed := uint64(0); seed < 6; seed++ {
		inputs = append(inputs, pcgBytes(seed, 5<<20+int(seed)*777_777))
	}
	for _, n := range []int{chunkMin - 1, chunkMin, chunkMin + 1, chunkMin + 64<<10, chunkMax - 1, chunkMax, chunkMax + 1, 2*chunkMax + chunkMin} {
		inputs = append(inputs, pcgBytes(uint64(n), n))
	}
	zeros := make([]byte, 5<<20)
	inputs = append(inputs, zeros, append(append(pcgBytes(99, 3<<20), zeros...), pcgBytes(98, 2<<20)...))
	// a repeating pattern without a single candidate: every chunk is cut at the maximum
	var pat []byte
	for seed := uint64(0); ; seed++ {
		p := pcgBytes(seed+1000, 64)
		if c.search(bytes.Repeat(p, 70), 65, 64*70) == 0 {
			pat = bytes.Repeat(p, (17<<20)/64)
			break
		}
	}
	inputs = append(inputs, pat)
	for i, data := range inputs {
		want := splitAll(c, data, 256<<10)
		for _, parts := range []int{2, 3, 16} {
			for _, step := range []int{256 << 10, 3<<20 + 17} {
				if got := splitAllSplit(c, data, step, parts); !equalInts(got, want) {
					t.Fatalf("input %d (%d bytes), %d parts, step %d: got %d chunks %v, want %d chunks %v", i, len(data), parts, step, len(got), head(got), len(want), head(want))
				}
			}
		}
	}
	if got, want := splitAllSplit(c, inputs[0], 1<<20, 4), resticSplit(t, pol, inputs[0]); !equalInts(got, want) {
		t.Fatalf("split search: %v, restic %v", head(got), head(want))
	}
}

// searchSplit finds the first candidate when the stretches' borders fall on
// a candidate, just before it or just after it, and when several stretches
// hold one.
func TestSearchSplitBorders(t *testing.T) {
	c := newCutter(chunker.Pol(0x3DA3358B4DC173))
	data := pcgBytes(5, 24<<20)
	cands := candidates(c, data)
	if len(cands) < 10 {
		t.Fatalf("only %d candidates in 24 MiB", len(cands))
	}
	for k, l := range cands {
		for _, parts := range []int{2, 3, 5, 16} {
			for _, d := range []int{-2, -1, 0, 1, 2} {
				// border between stretch 0 and 1 at l+d: from + size = l+d
				size := 1000 + k
				from := l + d - size
				to := from + parts*size - 1
				if from < 65 || to > len(data) {
					continue
				}
				want := c.search(data, from, to)
				if got := c.searchSplit(data, from, to, parts); got != want {
					t.Fatalf("candidate %d at %d, border %+d, %d parts: got %d, want %d", k, l, d, parts, got, want)
				}
			}
		}
		if k+3 < len(cands) {
			from, to := max(65, l-5000), cands[k+3]+5000
			if to <= len(data) {
				if got := c.searchSplit(data, from, to, 4); got != l {
					t.Fatalf("[%d, %d] with candidates %v, 4 parts: got %d", from, to, cands[k:k+4], got)
				}
			}
		}
	}
}

// FuzzSearchSplit: any range, any part count, fuzzed bytes spliced into
// data that holds candidates.
func FuzzSearchSplit(f *testing.F) {
	c := newCutter(chunker.Pol(0x3DA3358B4DC173))
	base := pcgBytes(11, 2<<20)
	f.Add([]byte{1, 2, 3}, uint32(65), uint32(4<<20), uint8(2), uint32(0))
	f.Add(make([]byte, 4096), uint32(1000), uint32(3<<20), uint8(16), uint32(2<<20))
	f.Add([]byte{}, uint32(2_000_000), uint32(2_100_000), uint8(7), uint32(0))
	f.Fuzz(func(t *testing.T, splice []byte, from, to uint32, parts uint8, at uint32) {
		data := append([]byte(nil), base...)
		copy(data[int(at)%len(data):], splice)
		lo := 65 + int(from)%(len(data)-65)
		hi := lo + int(to)%(len(data)-lo+1)
		if got, want := c.searchSplit(data, lo, hi, int(parts)), c.search(data, lo, hi); got != want {
			t.Fatalf("[%d, %d], %d parts: got %d, want %d", lo, hi, parts, got, want)
		}
	})
}

// TK_CHUNK_FILES=FILE:FILE... compares the split search with restic's chunker on real files
// (run by hand on the benchmark set's large files; see README Benchmarks).
func TestCutSplitFiles(t *testing.T) {
	files := os.Getenv("TK_CHUNK_FILES")
	if files == "" {
		t.Skip("TK_CHUNK_FILES not set")
	}
	pol := chunker.Pol(0x3DA3358B4DC173)
	c := newCutter(pol)
	for _, name := range strings.Split(files, ":") {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want := resticSplit(t, pol, data)
		got := splitAllSplit(c, data, 256<<10, 2)
		if !equalInts(got, want) {
			t.Fatalf("%s: split search %d chunks, restic %d", name, len(got), len(want))
		}
		t.Logf("%s: %d bytes, %d chunks, same as restic", name, len(data), len(got))
	}
}
