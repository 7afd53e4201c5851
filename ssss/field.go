package ssss

import "math/bits"

// The field GF(2^deg), deg a multiple of 8 from 8 to 1024, as ssss 0.5 defines it: the
// polynomials over GF(2) modulo x^deg + x^a + x^b + x^c + 1, with (a, b, c) taken from
// pentanomials below (one per degree, in steps of 8). An element is stored as the integer
// whose bit i is the coefficient of x^i, in little-endian 64-bit words; that is also the
// integer ssss prints in hex.

// MinBits and MaxBits bound the security level (the field degree) that ssss accepts.
const (
	MinBits = 8
	MaxBits = 1024
)

// pentanomials[deg/8-1] = (a, b, c): the middle terms of ssss 0.5's irreducible polynomial
// of degree deg. TestPentanomialsIrreducible checks every one of them.
var pentanomials = [MaxBits / 8][3]uint16{
	{4, 3, 1}, {5, 3, 1}, {4, 3, 1}, {7, 3, 2}, {5, 4, 3}, {5, 3, 2}, {7, 4, 2}, {4, 3, 1},
	{10, 9, 3}, {9, 4, 2}, {7, 6, 2}, {10, 9, 6}, {4, 3, 1}, {5, 4, 3}, {4, 3, 1}, {7, 2, 1},
	{5, 3, 2}, {7, 4, 2}, {6, 3, 2}, {5, 3, 2}, {15, 3, 2}, {11, 3, 2}, {9, 8, 7}, {7, 2, 1},
	{5, 3, 2}, {9, 3, 1}, {7, 3, 1}, {9, 8, 3}, {9, 4, 2}, {8, 5, 3}, {15, 14, 10}, {10, 5, 2},
	{9, 6, 2}, {9, 3, 2}, {9, 5, 2}, {11, 10, 1}, {7, 3, 2}, {11, 2, 1}, {9, 7, 4}, {4, 3, 1},
	{8, 3, 1}, {7, 4, 1}, {7, 2, 1}, {13, 11, 6}, {5, 3, 2}, {7, 3, 2}, {8, 7, 5}, {12, 3, 2},
	{13, 10, 6}, {5, 3, 2}, {5, 3, 2}, {9, 5, 2}, {9, 7, 2}, {13, 4, 3}, {4, 3, 1}, {11, 6, 4},
	{18, 9, 6}, {19, 18, 13}, {11, 3, 2}, {15, 9, 6}, {4, 3, 1}, {16, 5, 2}, {15, 14, 6}, {8, 5, 2},
	{15, 11, 2}, {11, 6, 2}, {7, 5, 3}, {8, 3, 1}, {19, 16, 9}, {11, 9, 6}, {15, 7, 6}, {13, 4, 3},
	{14, 13, 3}, {13, 6, 3}, {9, 5, 2}, {19, 13, 6}, {19, 10, 3}, {11, 6, 5}, {9, 2, 1}, {14, 3, 2},
	{13, 3, 1}, {7, 5, 4}, {11, 9, 8}, {11, 6, 5}, {23, 16, 9}, {19, 14, 6}, {23, 10, 2}, {8, 3, 2},
	{5, 4, 3}, {9, 6, 4}, {4, 3, 2}, {13, 8, 6}, {13, 11, 1}, {13, 10, 3}, {11, 6, 5}, {19, 17, 4},
	{15, 14, 7}, {13, 9, 6}, {9, 7, 3}, {9, 7, 1}, {14, 3, 2}, {11, 8, 2}, {11, 6, 4}, {13, 5, 2},
	{11, 5, 1}, {11, 4, 1}, {19, 10, 3}, {21, 10, 6}, {13, 3, 1}, {15, 7, 5}, {19, 18, 10}, {7, 5, 3},
	{12, 7, 2}, {7, 5, 1}, {14, 9, 6}, {10, 3, 2}, {15, 13, 12}, {12, 11, 9}, {16, 9, 7}, {12, 9, 3},
	{9, 5, 2}, {17, 10, 6}, {24, 9, 3}, {17, 15, 13}, {5, 4, 3}, {19, 17, 8}, {15, 6, 3}, {19, 6, 1},
}

// validBits reports whether deg is a field degree ssss accepts.
func validBits(deg int) bool { return deg >= MinBits && deg <= MaxBits && deg%8 == 0 }

// field is GF(2^deg). Elements have deg/64+1 words, room for deg+1 bits.
type field struct {
	deg  int
	poly elem // the modulus, with bit deg set
}

type elem []uint64

func newField(deg int) *field {
	f := &field{deg: deg}
	f.poly = f.zero()
	p := pentanomials[deg/8-1]
	for _, b := range []int{deg, int(p[0]), int(p[1]), int(p[2]), 0} {
		f.poly.setBit(b)
	}
	return f
}

func (f *field) words() int { return f.deg/64 + 1 }
func (f *field) zero() elem { return make(elem, f.words()) }
func (f *field) small(v uint64) elem {
	e := f.zero()
	e[0] = v
	return e
}

func (e elem) bit(i int) bool { return e[i/64]>>(i%64)&1 == 1 }
func (e elem) setBit(i int)   { e[i/64] |= 1 << (i % 64) }

func (e elem) isZero() bool {
	for _, w := range e {
		if w != 0 {
			return false
		}
	}
	return true
}

func (e elem) isOne() bool {
	if e[0] != 1 {
		return false
	}
	return elem(e[1:]).isZero()
}

// degree is the index of the highest set bit, -1 for zero.
func (e elem) degree() int {
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] != 0 {
			return i*64 + 63 - bits.LeadingZeros64(e[i])
		}
	}
	return -1
}

func (e elem) clone() elem { return append(elem(nil), e...) }

// xorShifted sets e ^= x << s (bits shifted past e's length are dropped).
func (e elem) xorShifted(x elem, s int) {
	ws, bs := s/64, uint(s%64)
	for i := len(e) - 1; i >= ws; i-- {
		v := x[i-ws] << bs
		if bs != 0 && i-ws-1 >= 0 {
			v |= x[i-ws-1] >> (64 - bs)
		}
		e[i] ^= v
	}
}

func (f *field) add(x, y elem) elem {
	z := x.clone()
	for i := range z {
		z[i] ^= y[i]
	}
	return z
}

// double sets e = e*x mod poly, in place.
func (f *field) double(e elem) {
	var carry uint64
	for i := range e {
		next := e[i] >> 63
		e[i] = e[i]<<1 | carry
		carry = next
	}
	if e.bit(f.deg) {
		for i := range e {
			e[i] ^= f.poly[i]
		}
	}
}

// mul returns x*y, scanning y from its highest bit down (Horner's rule on y's bits).
func (f *field) mul(x, y elem) elem {
	z := f.zero()
	for i := f.deg - 1; i >= 0; i-- {
		f.double(z)
		if y.bit(i) {
			for j := range z {
				z[j] ^= x[j]
			}
		}
	}
	return z
}

// inv returns 1/x for x != 0, by the extended Euclidean algorithm over GF(2)[X]:
// invariants u = g*x and v = h*x (mod poly).
func (f *field) inv(x elem) elem {
	u, v := x.clone(), f.poly.clone()
	g, h := f.small(1), f.zero()
	for !u.isOne() {
		d := u.degree() - v.degree()
		if d < 0 {
			u, v = v, u
			g, h = h, g
			d = -d
		}
		u.xorShifted(v, d)
		g.xorShifted(h, d)
	}
	return g
}

// fromBytes reads a big-endian integer (at most deg/8 bytes) as an element.
func (f *field) fromBytes(b []byte) elem {
	e := f.zero()
	for i, c := range b {
		bit := (len(b) - 1 - i) * 8
		e[bit/64] |= uint64(c) << (bit % 64)
	}
	return e
}

// bytes returns the element as a big-endian integer of exactly deg/8 bytes.
func (f *field) bytes(e elem) []byte {
	n := f.deg / 8
	b := make([]byte, n)
	for i := range b {
		bit := (n - 1 - i) * 8
		b[i] = byte(e[bit/64] >> (bit % 64))
	}
	return b
}

// wipe clears an element's words (best effort for secrets).
func (e elem) wipe() { clear(e) }
