package repo

import (
	"github.com/restic/chunker"
)

// Chunk boundaries are restic's: a Rabin fingerprint over a 64-byte window,
// chunks of 512 KiB to 8 MiB cut where the low 20 bits of the fingerprint are
// zero. The fingerprint at a position depends only on the 64 bytes before it
// (it is the window's residue modulo the polynomial), so the search can start
// anywhere and run in several independent lanes: the lanes' dependency chains
// interleave in the CPU. Eight lanes over a 64 KiB span with one base pointer
// (span53) take 0.71 of the CPU of the four lanes over a whole 256 KiB read
// that came before (thread CPU, 15 alternating rounds), which were about 1.7
// times as fast as github.com/restic/chunker; the cuts are exactly restic's
// (TestChunkerMatchesRestic, TestChunkerBounds).
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
// b[l-64:l] has its low 20 bits zero, or 0. It searches spans of searchSpan
// bytes one after the other: the lanes of a span search to its end even when
// a later lane has hit (only lane 0's hit is surely the first), so a long
// span would search far past the cut (on average 96 KiB of a 256 KiB read,
// a tenth of the chunker's work); a new span costs four 64-byte primers.
func (c *cutter) search(b []byte, from, to int) int {
	for from <= to {
		end := min(to, from+searchSpan-1)
		if l := c.searchLanes(b, from, end); l > 0 {
			return l
		}
		from = end + 1
	}
	return 0
}

// searchSpan is the length of the stretch searched by one run of the lanes:
// spanLanes lanes of spanLane bytes.
const (
	spanLanes  = 8
	spanLane   = 8 << 10
	searchSpan = spanLanes * spanLane
)

// searchLanes is search over one span: a whole span of a degree-53
// polynomial in span53's eight lanes, anything else in chunkLanes lanes.
func (c *cutter) searchLanes(b []byte, from, to int) int {
	if lo := from - 1; to-lo == searchSpan && c.shift == resticShift {
		p := (*[chunkWindow + searchSpan]byte)(b[lo-chunkWindow : lo+searchSpan])
		if j, k := c.span53(p); j >= 0 {
			return lo + j*spanLane + k + 1
		}
		return 0
	}
	return c.searchFour(b, from, to)
}

// span53 searches a span in eight lanes: lane j takes the window ending at
// p[64+j*spanLane+k] for k = 0, 1, ... (its first window, p[j*spanLane:][:64],
// primes it). All lanes share one base pointer (their offsets are constants),
// which leaves registers for eight fingerprints. It returns the lane and
// index of the first hit, or -1. For degree-53 polynomials only.
func (c *cutter) span53(p *[chunkWindow + searchSpan]byte) (int, int) {
	const L = spanLane
	out, mod := &c.out, &c.mod
	var d0, d1, d2, d3, d4, d5, d6, d7 uint64
	for k := 0; k < chunkWindow; k++ {
		d0 = (d0<<8 | uint64(p[k])) ^ mod[byte(d0>>resticShift)]
		d1 = (d1<<8 | uint64(p[k+L])) ^ mod[byte(d1>>resticShift)]
		d2 = (d2<<8 | uint64(p[k+2*L])) ^ mod[byte(d2>>resticShift)]
		d3 = (d3<<8 | uint64(p[k+3*L])) ^ mod[byte(d3>>resticShift)]
		d4 = (d4<<8 | uint64(p[k+4*L])) ^ mod[byte(d4>>resticShift)]
		d5 = (d5<<8 | uint64(p[k+5*L])) ^ mod[byte(d5>>resticShift)]
		d6 = (d6<<8 | uint64(p[k+6*L])) ^ mod[byte(d6>>resticShift)]
		d7 = (d7<<8 | uint64(p[k+7*L])) ^ mod[byte(d7>>resticShift)]
	}
	hit := [spanLanes]int{-1, -1, -1, -1, -1, -1, -1, -1}
	for k := 0; k < L; k++ {
		d0 ^= out[p[k]]
		d1 ^= out[p[k+L]]
		d2 ^= out[p[k+2*L]]
		d3 ^= out[p[k+3*L]]
		d4 ^= out[p[k+4*L]]
		d5 ^= out[p[k+5*L]]
		d6 ^= out[p[k+6*L]]
		d7 ^= out[p[k+7*L]]
		d0 = (d0<<8 | uint64(p[k+chunkWindow])) ^ mod[byte(d0>>resticShift)]
		d1 = (d1<<8 | uint64(p[k+L+chunkWindow])) ^ mod[byte(d1>>resticShift)]
		d2 = (d2<<8 | uint64(p[k+2*L+chunkWindow])) ^ mod[byte(d2>>resticShift)]
		d3 = (d3<<8 | uint64(p[k+3*L+chunkWindow])) ^ mod[byte(d3>>resticShift)]
		d4 = (d4<<8 | uint64(p[k+4*L+chunkWindow])) ^ mod[byte(d4>>resticShift)]
		d5 = (d5<<8 | uint64(p[k+5*L+chunkWindow])) ^ mod[byte(d5>>resticShift)]
		d6 = (d6<<8 | uint64(p[k+6*L+chunkWindow])) ^ mod[byte(d6>>resticShift)]
		d7 = (d7<<8 | uint64(p[k+7*L+chunkWindow])) ^ mod[byte(d7>>resticShift)]
		if (d0&chunkMask == 0 || d1&chunkMask == 0 || d2&chunkMask == 0 || d3&chunkMask == 0 ||
			d4&chunkMask == 0 || d5&chunkMask == 0 || d6&chunkMask == 0 || d7&chunkMask == 0) &&
			record8(&hit, k, [spanLanes]uint64{d0, d1, d2, d3, d4, d5, d6, d7}) {
			break
		}
	}
	for j, k := range hit {
		if k >= 0 {
			return j, k
		}
	}
	return -1, -1
}

// record8 notes the first hit of each of span53's lanes and reports whether
// lane 0 hit (nothing later can be earlier).
func record8(hit *[spanLanes]int, k int, d [spanLanes]uint64) bool {
	for j := range d {
		if d[j]&chunkMask == 0 && hit[j] < 0 {
			hit[j] = k
		}
	}
	return hit[0] >= 0
}

// searchFour is search over one span, in chunkLanes lanes.
func (c *cutter) searchFour(b []byte, from, to int) int {
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
	hit := c.lanes(d, s0, s1, s2, s3)
	for j := 0; j < chunkLanes; j++ {
		if hit[j] >= 0 {
			return starts[j] + hit[j] + 1
		}
	}
	return tail
}

// resticShift is c.shift for polynomials of degree 53, the only degree
// restic's RandomPolynomial makes: span53 shifts by this constant.
const resticShift = 53 - 8

// lanes runs the four lanes of searchFour over s0..s3 (each a lane's bytes
// after its 64-byte primer window, whose fingerprints are d) and returns each
// lane's first hit (the index of the byte that completed the window, counted
// from the end of the primer), -1 for none. It stops once lane 0 has hit.
func (c *cutter) lanes(d [chunkLanes]uint64, s0, s1, s2, s3 []byte) [chunkLanes]int {
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
