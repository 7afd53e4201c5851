package ssss

import "encoding/binary"

// The diffusion layer of ssss 0.5 (on by default, and only for fields of 64 bits or more):
// before splitting, the secret is scrambled by a keyless 64-bit permutation (XTEA's round
// function with a zero key, 32 cycles) applied to overlapping 8-byte windows that slide
// around the secret two bytes at a time, 20 times over; combining undoes it in reverse. It
// makes every bit of the secret depend on every other, so that a share set that is almost
// right does not give a secret that is almost right.
//
// The windows work on the element's bytes in the order GMP exports 16-bit words, least
// significant word first and each word's high byte first; when deg/8 is odd the top word
// holds one byte only, which stands last. (Checked against ssss-split and ssss-combine by
// the interop tests.)

const (
	diffusionMinBits = 64
	xteaDelta        = 0x9E3779B9
	xteaCycles       = 32
	diffusionPasses  = 40 // window starts per byte of the secret, in steps of 2 bytes: 20 turns
)

// diffusionOrder returns, for each working byte, the bit offset of that byte in the element.
func diffusionOrder(deg int) []int {
	n := deg / 8
	off := make([]int, n)
	for k := range off {
		w := k / 2
		switch {
		case k%2 == 1, deg%16 == 8 && k == n-1:
			off[k] = 16 * w // the word's low byte
		default:
			off[k] = 16*w + 8 // the word's high byte
		}
	}
	return off
}

func permute(v *[2]uint32) {
	var sum uint32
	for i := 0; i < xteaCycles; i++ {
		v[0] += ((v[1]<<4 ^ v[1]>>5) + v[1]) ^ sum
		sum += xteaDelta
		v[1] += ((v[0]<<4 ^ v[0]>>5) + v[0]) ^ sum
	}
}

func unpermute(v *[2]uint32) {
	sum := uint32(xteaDelta * xteaCycles & 0xffffffff)
	for i := 0; i < xteaCycles; i++ {
		v[1] -= ((v[0]<<4 ^ v[0]>>5) + v[0]) ^ sum
		sum -= xteaDelta
		v[0] -= ((v[1]<<4 ^ v[1]>>5) + v[1]) ^ sum
	}
}

// window applies f to the 8 bytes of buf starting at start, wrapping around.
func window(buf []byte, start int, f func(*[2]uint32)) {
	var w [8]byte
	for j := range w {
		w[j] = buf[(start+j)%len(buf)]
	}
	v := [2]uint32{binary.BigEndian.Uint32(w[:4]), binary.BigEndian.Uint32(w[4:])}
	f(&v)
	binary.BigEndian.PutUint32(w[:4], v[0])
	binary.BigEndian.PutUint32(w[4:], v[1])
	for j := range w {
		buf[(start+j)%len(buf)] = w[j]
	}
	clear(w[:])
}

// diffuse scrambles (forward) or unscrambles e in place. Fields under 64 bits are left
// alone, as ssss does (it warns and skips the layer).
func (f *field) diffuse(e elem, forward bool) {
	if f.deg < diffusionMinBits {
		return
	}
	order := diffusionOrder(f.deg)
	buf := make([]byte, len(order))
	defer clear(buf)
	for k, off := range order {
		buf[k] = byte(e[off/64] >> (off % 64))
	}
	n := diffusionPasses * len(buf)
	if forward {
		for i := 0; i < n; i += 2 {
			window(buf, i, permute)
		}
	} else {
		for i := n - 2; i >= 0; i -= 2 {
			window(buf, i, unpermute)
		}
	}
	e.wipe()
	for k, off := range order {
		e[off/64] |= uint64(buf[k]) << (off % 64)
	}
}
