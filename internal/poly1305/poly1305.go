package poly1305

import (
	"crypto/subtle"
	"encoding/binary"
	"math/bits"

	xpoly "golang.org/x/crypto/poly1305"
)

// TagSize is the size of an authenticator.
const TagSize = 16

// Sum writes the authenticator of m under the one-time key to out.
// (A caller with the same r for many messages keeps a MACKey instead.)
func Sum(out *[TagSize]byte, m []byte, key *[32]byte) {
	lanes := vectorLanes(len(m))
	if lanes == 0 {
		xpoly.Sum(out, m, key)
		return
	}
	sumVector(out, m, key, lanes)
}

// SumReference is golang.org/x/crypto/poly1305's Sum: the reference a caller
// recomputes with before it calls a message forged.
func SumReference(out *[TagSize]byte, m []byte, key *[32]byte) {
	xpoly.Sum(out, m, key)
}

// Verify reports, in constant time, whether mac is the authenticator of m under key.
func Verify(mac *[TagSize]byte, m []byte, key *[32]byte) bool {
	var t [TagSize]byte
	Sum(&t, m, key)
	return subtle.ConstantTimeCompare(t[:], mac[:]) == 1
}

const mask26 = 1<<26 - 1

// elem is a number below 2^131 in five 26-bit limbs (limbs may carry a few bits more
// between reductions).
type elem [5]uint64

// split turns the 128-bit number lo + hi*2^64 into limbs.
func split(lo, hi uint64) elem {
	return elem{
		lo & mask26,
		(lo >> 26) & mask26,
		(lo>>52 | hi<<12) & mask26,
		(hi >> 14) & mask26,
		hi >> 40,
	}
}

// mulMod returns a*b mod 2^130-5, partly reduced: limbs below 2^26 but for limb 1,
// below 2^26+2^12. Limbs of a must be below 2^30 and of b below 2^27.
func mulMod(a, b *elem) elem {
	s1, s2, s3, s4 := b[1]*5, b[2]*5, b[3]*5, b[4]*5
	d0 := a[0]*b[0] + a[1]*s4 + a[2]*s3 + a[3]*s2 + a[4]*s1
	d1 := a[0]*b[1] + a[1]*b[0] + a[2]*s4 + a[3]*s3 + a[4]*s2
	d2 := a[0]*b[2] + a[1]*b[1] + a[2]*b[0] + a[3]*s4 + a[4]*s3
	d3 := a[0]*b[3] + a[1]*b[2] + a[2]*b[1] + a[3]*b[0] + a[4]*s4
	d4 := a[0]*b[4] + a[1]*b[3] + a[2]*b[2] + a[3]*b[1] + a[4]*b[0]
	return carry(d0, d1, d2, d3, d4)
}

func carry(d0, d1, d2, d3, d4 uint64) elem {
	d1 += d0 >> 26
	d0 &= mask26
	d2 += d1 >> 26
	d1 &= mask26
	d3 += d2 >> 26
	d2 &= mask26
	d4 += d3 >> 26
	d3 &= mask26
	d0 += (d4 >> 26) * 5
	d4 &= mask26
	d1 += d0 >> 26
	d0 &= mask26
	return elem{d0, d1, d2, d3, d4}
}

func clampR(key *[16]byte) elem {
	lo := binary.LittleEndian.Uint64(key[0:8]) & 0x0ffffffc0fffffff
	hi := binary.LittleEndian.Uint64(key[8:16]) & 0x0ffffffc0ffffffc
	return split(lo, hi)
}

// blocks runs h = (h + block) * r over the whole 16-byte blocks of m, then over the
// partial block left, if any (padded with a 1 byte and zeros).
func blocks(h elem, r *elem, m []byte) elem {
	for len(m) >= 16 {
		b := split(binary.LittleEndian.Uint64(m[0:8]), binary.LittleEndian.Uint64(m[8:16]))
		for i := range h {
			h[i] += b[i]
		}
		h[4] += 1 << 24
		h = mulMod(&h, r)
		m = m[16:]
	}
	if len(m) > 0 {
		var buf [16]byte
		copy(buf[:], m)
		buf[len(m)] = 1
		b := split(binary.LittleEndian.Uint64(buf[0:8]), binary.LittleEndian.Uint64(buf[8:16]))
		for i := range h {
			h[i] += b[i]
		}
		h = mulMod(&h, r)
	}
	return h
}

// finish reduces h mod 2^130-5 in constant time, adds s mod 2^128 and
// writes the result.
func finish(out *[TagSize]byte, h elem, s *[16]byte) {
	h = carry(h[0], h[1], h[2], h[3], h[4])
	h[2] += h[1] >> 26
	h[1] &= mask26
	// g = h + 5 - 2^130; if it does not go below zero, h >= p and the result is g.
	g0 := h[0] + 5
	g1 := h[1] + g0>>26
	g0 &= mask26
	g2 := h[2] + g1>>26
	g1 &= mask26
	g3 := h[3] + g2>>26
	g2 &= mask26
	g4 := h[4] + g3>>26 - 1<<26
	g3 &= mask26
	useG := (g4 >> 63) - 1 // all ones when g4 did not wrap
	g4 &= mask26
	h0 := h[0]&^useG | g0&useG
	h1 := h[1]&^useG | g1&useG
	h2 := h[2]&^useG | g2&useG
	h3 := h[3]&^useG | g3&useG
	h4 := h[4]&^useG | g4&useG
	// Added, not or-ed: h's limbs 1 and 2 may hold 2^26 (one bit too many).
	lo, c := bits.Add64(h0+h1<<26, h2<<52, 0)
	hi := h2>>12 + h3<<14 + h4<<40 + c
	lo, c = bits.Add64(lo, binary.LittleEndian.Uint64(s[0:8]), 0)
	hi, _ = bits.Add64(hi, binary.LittleEndian.Uint64(s[8:16]), c)
	binary.LittleEndian.PutUint64(out[0:8], lo)
	binary.LittleEndian.PutUint64(out[8:16], hi)
}

// sumScalar is Poly1305 in Go, one block at a time (tests; the tail of sumVector).
func sumScalar(out *[TagSize]byte, m []byte, key *[32]byte) {
	r := clampR((*[16]byte)(key[:16]))
	finish(out, blocks(elem{}, &r, m), (*[16]byte)(key[16:]))
}

// MACKey is what the r half of Poly1305 keys gives, computed once (r's powers and the
// assembly's constants): a restic repository MACs every blob with the same r and a
// new s, and the setup costs as much as a few hundred bytes of message.
type MACKey struct {
	r   elem
	p   [8]elem        // p[k-1] = r^k
	vk4 [11 * 8]uint64 // the assembly's constants for four lanes (r^4) ...
	vk8 [11 * 8]uint64 // ... and for eight (r^8)
}

// NewMACKey prepares r (the first half of a Poly1305 key; clamped here).
func NewMACKey(r *[16]byte) *MACKey {
	k := new(MACKey)
	k.init(r)
	return k
}

func (k *MACKey) init(rb *[16]byte) {
	k.r = clampR(rb)
	k.p[0] = k.r
	for i := 1; i < 8; i++ {
		k.p[i] = mulMod(&k.p[i-1], &k.r)
	}
	fillVK(&k.vk4, &k.p[3], 4)
	fillVK(&k.vk8, &k.p[7], 8)
}

// fillVK writes what the assembly reads, each in all lanes: top's limbs, 5 times its
// limbs 1-4, the 26-bit mask and a block's 2^128 (limb 4's bit 24).
func fillVK(vk *[11 * 8]uint64, top *elem, lanes int) {
	for l := 0; l < lanes; l++ {
		for i := 0; i < 5; i++ {
			vk[i*lanes+l] = top[i]
		}
		for i := 1; i < 5; i++ {
			vk[(4+i)*lanes+l] = top[i] * 5
		}
		vk[9*lanes+l] = mask26
		vk[10*lanes+l] = 1 << 24
	}
}

// Sum writes the authenticator of m under the one-time key r || s to out: the
// vector code for messages long enough to gain from it, else x/crypto.
func (k *MACKey) Sum(out *[TagSize]byte, m []byte, s *[16]byte) {
	lanes := vectorLanes(len(m))
	if lanes == 0 {
		var key [32]byte
		k.fullKey(&key, s)
		xpoly.Sum(out, m, &key)
		return
	}
	k.sumVector(out, m, s, lanes)
}

func (k *MACKey) fullKey(key *[32]byte, s *[16]byte) {
	lo, hi := k.r[0]|k.r[1]<<26|k.r[2]<<52, k.r[2]>>12|k.r[3]<<14|k.r[4]<<40
	binary.LittleEndian.PutUint64(key[0:8], lo)
	binary.LittleEndian.PutUint64(key[8:16], hi)
	copy(key[16:], s[:])
}

// sumVector runs the whole pieces of 16*lanes bytes of m lanes blocks at a time,
// each lane (64-bit slot of the registers) on its own block of each piece (see
// laneBlock), every step multiplying the lanes by r^lanes; then it combines the lanes
// and does the rest one block at a time in Go.
func (k *MACKey) sumVector(out *[TagSize]byte, m []byte, s *[16]byte, lanes int) {
	piece := 16 * lanes
	n := len(m) / piece
	var acc [5 * 8]uint64 // acc[limb*lanes+lane]
	vk := &k.vk4
	if lanes == 8 {
		vk = &k.vk8
	}
	vectorBlocks(&acc, vk, m[:n*piece], lanes)
	var h elem
	for l := 0; l < lanes; l++ {
		a := elem{acc[l], acc[lanes+l], acc[2*lanes+l], acc[3*lanes+l], acc[4*lanes+l]}
		t := mulMod(&a, &k.p[lanes-1-laneBlock(l, lanes)])
		for i := range h {
			h[i] += t[i]
		}
	}
	h = carry(h[0], h[1], h[2], h[3], h[4])
	finish(out, blocks(h, &k.r, m[n*piece:]), s)
}

// sumVector is Sum on the vector code with lanes lanes, whatever the length (tests).
func sumVector(out *[TagSize]byte, m []byte, key *[32]byte, lanes int) {
	var k MACKey
	k.init((*[16]byte)(key[:16]))
	k.sumVector(out, m, (*[16]byte)(key[16:]), lanes)
}

// laneBlock is the block of each piece that lane l takes: the assembly unpacks the
// 64-bit halves of the blocks within 128-bit lanes and does not put them back in
// order, so four lanes hold blocks 0 2 1 3 and eight 0 4 1 5 2 6 3 7.
func laneBlock(l, lanes int) int {
	return l/2 + (l%2)*lanes/2
}
