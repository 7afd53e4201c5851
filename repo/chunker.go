package repo

import (
	"github.com/restic/chunker"
)

// Chunk boundaries are restic's: a Rabin fingerprint over a 64-byte window,
// chunks of 512 KiB to 8 MiB cut where the low 20 bits of the fingerprint are
// zero. The fingerprint at a position depends only on the 64 bytes before it
// (it is the window's residue modulo the polynomial), so the search can start
// anywhere and run in several independent lanes: the lanes' dependency chains
// interleave in the CPU, which makes this about 1.7 times as fast as
// github.com/restic/chunker (in CPU time, on amd64) while cutting at exactly
// the same places (TestChunkerMatchesRestic).
const (
	chunkMin    = chunker.MinSize
	chunkMax    = chunker.MaxSize
	chunkWindow = 64
	chunkMask   = 1<<20 - 1
	chunkLanes  = 4
)

// cutter finds chunk boundaries for one polynomial.
type cutter struct {
	out   [256]uint64
	mod   [256]uint64
	shift uint
}

func newCutter(pol chunker.Pol) *cutter {
	c := &cutter{shift: uint(pol.Deg() - 8)}
	appendByte := func(h chunker.Pol, b byte) chunker.Pol { return (h<<8 | chunker.Pol(b)).Mod(pol) }
	for b := 0; b < 256; b++ {
		h := appendByte(0, byte(b))
		for i := 0; i < chunkWindow-1; i++ {
			h = appendByte(h, 0)
		}
		c.out[b] = uint64(h)
		k := uint(pol.Deg())
		c.mod[b] = uint64((chunker.Pol(uint64(b) << k)).Mod(pol) | chunker.Pol(uint64(b)<<k))
	}
	return c
}

// cut returns the length of the first chunk of b (which starts a chunk),
// searching only lengths from 'from' on, or 0 when b holds no cut yet. It
// never returns less than chunkMin; at chunkMax the chunk is cut anyway. The
// caller handles the end of the stream (the rest is one chunk).
func (c *cutter) cut(b []byte, from int) int {
	from = max(from, chunkMin)
	to := min(len(b), chunkMax)
	if to < from {
		return 0
	}
	if l := c.search(b, from, to); l > 0 {
		return l
	}
	if to == chunkMax {
		return chunkMax
	}
	return 0
}

// search returns the first length l in [from, to] at which the fingerprint of
// b[l-64:l] has its low 20 bits zero, or 0.
func (c *cutter) search(b []byte, from, to int) int {
	// index i means: byte b[i] has just entered the window, length i+1
	lo, hi := from-1, to // indexes [lo, hi)
	n := hi - lo
	if n < 4*chunkLanes*chunkWindow {
		return c.lane(b, lo, hi)
	}
	part := n / chunkLanes
	var starts [chunkLanes + 1]int
	for j := 0; j <= chunkLanes; j++ {
		starts[j] = lo + j*part
	}
	starts[chunkLanes] = hi
	// the last lane takes the remainder on its own first
	tail := 0
	if rem := hi - (lo + chunkLanes*part); rem > 0 {
		tail = c.lane(b, lo+chunkLanes*part, hi)
	}
	a0, a1, a2, a3 := starts[0], starts[1], starts[2], starts[3]
	// each lane's bytes with the 64 before them: byte k leaves the window
	// as byte k+64 enters it (one base pointer a lane, fewer registers)
	s0 := b[a0-chunkWindow : a0+part]
	s1 := b[a1-chunkWindow : a1+part]
	s2 := b[a2-chunkWindow : a2+part]
	s3 := b[a3-chunkWindow : a3+part]
	d := [chunkLanes]uint64{c.prime(b, a0), c.prime(b, a1), c.prime(b, a2), c.prime(b, a3)}
	var hit [chunkLanes]int
	if c.shift == resticShift {
		hit = c.lanes53(d, s0, s1, s2, s3)
	} else {
		hit = c.lanesAny(d, s0, s1, s2, s3)
	}
	for j := 0; j < chunkLanes; j++ {
		if hit[j] >= 0 {
			return starts[j] + hit[j] + 1
		}
	}
	return tail
}

// resticShift is c.shift for polynomials of degree 53, the only degree
// restic's RandomPolynomial makes: lanes53 shifts by a constant (one
// instruction; a shift by a variable is three on Intel).
const resticShift = 53 - 8

// lanes53 runs the four lanes of search over s0..s3 (each a lane's bytes
// after its 64-byte primer window, whose fingerprints are d) and returns
// each lane's first hit (the index of the byte that completed the window,
// counted from the end of the primer), -1 for none. It stops once lane 0
// has hit. For c.shift == resticShift only.
func (c *cutter) lanes53(d [chunkLanes]uint64, s0, s1, s2, s3 []byte) [chunkLanes]int {
	hit := [chunkLanes]int{-1, -1, -1, -1}
	out, mod := &c.out, &c.mod
	d0, d1, d2, d3 := d[0], d[1], d[2], d[3]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
	for k := chunkWindow; k < len(s0); k++ {
		d0 ^= out[s0[k-chunkWindow]]
		d1 ^= out[s1[k-chunkWindow]]
		d2 ^= out[s2[k-chunkWindow]]
		d3 ^= out[s3[k-chunkWindow]]
		d0 = (d0<<8 | uint64(s0[k])) ^ mod[byte(d0>>resticShift)]
		d1 = (d1<<8 | uint64(s1[k])) ^ mod[byte(d1>>resticShift)]
		d2 = (d2<<8 | uint64(s2[k])) ^ mod[byte(d2>>resticShift)]
		d3 = (d3<<8 | uint64(s3[k])) ^ mod[byte(d3>>resticShift)]
		if (d0&chunkMask == 0 || d1&chunkMask == 0 || d2&chunkMask == 0 || d3&chunkMask == 0) && record(&hit, k-chunkWindow, d0, d1, d2, d3) {
			break
		}
	}
	return hit
}

// lanesAny is lanes53 for any degree.
func (c *cutter) lanesAny(d [chunkLanes]uint64, s0, s1, s2, s3 []byte) [chunkLanes]int {
	hit := [chunkLanes]int{-1, -1, -1, -1}
	out, mod, sh := &c.out, &c.mod, c.shift&63
	d0, d1, d2, d3 := d[0], d[1], d[2], d[3]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
	for k := chunkWindow; k < len(s0); k++ {
		d0 ^= out[s0[k-chunkWindow]]
		d1 ^= out[s1[k-chunkWindow]]
		d2 ^= out[s2[k-chunkWindow]]
		d3 ^= out[s3[k-chunkWindow]]
		d0 = (d0<<8 | uint64(s0[k])) ^ mod[byte(d0>>sh)]
		d1 = (d1<<8 | uint64(s1[k])) ^ mod[byte(d1>>sh)]
		d2 = (d2<<8 | uint64(s2[k])) ^ mod[byte(d2>>sh)]
		d3 = (d3<<8 | uint64(s3[k])) ^ mod[byte(d3>>sh)]
		if (d0&chunkMask == 0 || d1&chunkMask == 0 || d2&chunkMask == 0 || d3&chunkMask == 0) && record(&hit, k-chunkWindow, d0, d1, d2, d3) {
			break
		}
	}
	return hit
}

// record notes the first hit of each lane and reports whether lane 0 hit
// (nothing later can be earlier).
func record(hit *[chunkLanes]int, k int, d0, d1, d2, d3 uint64) bool {
	for j, d := range [chunkLanes]uint64{d0, d1, d2, d3} {
		if d&chunkMask == 0 && hit[j] < 0 {
			hit[j] = k
		}
	}
	return hit[0] >= 0
}

// prime returns the fingerprint of the window b[i-64:i].
func (c *cutter) prime(b []byte, i int) uint64 {
	var d uint64
	sh := c.shift & 63
	for _, x := range b[i-chunkWindow : i] {
		d = (d<<8 | uint64(x)) ^ c.mod[byte(d>>sh)]
	}
	return d
}

// lane searches indexes [lo, hi) one byte at a time.
func (c *cutter) lane(b []byte, lo, hi int) int {
	d := c.prime(b, lo)
	sh := c.shift & 63
	in, o := b[lo:hi], b[lo-chunkWindow:hi-chunkWindow]
	for k := range in {
		d ^= c.out[o[k]]
		d = (d<<8 | uint64(in[k])) ^ c.mod[byte(d>>sh)]
		if d&chunkMask == 0 {
			return lo + k + 1
		}
	}
	return 0
}
