package sha256x2

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"hash"
)

// Size and BlockSize are SHA-256's, in bytes.
const (
	Size      = 32
	BlockSize = 64
)

// Digest is a SHA-256 state. The zero value is ready to use. Copying a Digest that
// has been written to is not supported: save and restore a state with MarshalBinary
// and UnmarshalBinary.
type Digest struct {
	h     [8]uint32
	x     [BlockSize]byte // the bytes of a block not yet full
	nx    int
	len   uint64    // bytes written
	std   hash.Hash // crypto/sha256's, when there is no assembly
	ready bool      // h holds a state (Reset ran)
}

var _ hash.Hash = (*Digest)(nil)

// New returns a new Digest.
func New() *Digest {
	d := new(Digest)
	d.Reset()
	return d
}

// Reset makes d the state of no bytes written.
func (d *Digest) Reset() {
	d.ready = true
	if !useSHANI {
		if d.std == nil {
			d.std = sha256.New()
		} else {
			d.std.Reset()
		}
		return
	}
	d.std = nil
	d.h = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
	d.nx = 0
	d.len = 0
}

func (d *Digest) start() {
	if !d.ready {
		d.Reset()
	}
}

// Size is 32.
func (d *Digest) Size() int { return Size }

// BlockSize is 64.
func (d *Digest) BlockSize() int { return BlockSize }

// Write adds p to the hashed bytes; it never fails.
func (d *Digest) Write(p []byte) (int, error) {
	d.start()
	if d.std != nil {
		return d.std.Write(p)
	}
	n := len(p)
	p = d.fill(p)
	if k := len(p) / BlockSize; k > 0 {
		blockx1(&d.h, &p[0], k)
		d.len += uint64(k * BlockSize)
		p = p[k*BlockSize:]
	}
	if len(p) > 0 {
		d.nx = copy(d.x[:], p)
		d.len += uint64(len(p))
	}
	return n, nil
}

// fill adds the first bytes of p to a block begun by an earlier Write, runs it when it
// is full, and returns the rest of p. Afterwards d.nx is 0, or the rest is empty.
func (d *Digest) fill(p []byte) []byte {
	if d.nx == 0 {
		return p
	}
	c := copy(d.x[d.nx:], p)
	d.nx += c
	d.len += uint64(c)
	if d.nx == BlockSize {
		blockx1(&d.h, &d.x[0], 1)
		d.nx = 0
	}
	return p[c:]
}

// Sum appends the SHA-256 of the bytes written to b; d is unchanged.
func (d *Digest) Sum(b []byte) []byte {
	d.start()
	if d.std != nil {
		return d.std.Sum(b)
	}
	c := *d
	bits := c.len << 3
	var pad [BlockSize + 8]byte
	pad[0] = 0x80
	n := 56 - int(c.len%BlockSize)
	if n <= 0 {
		n += BlockSize
	}
	binary.BigEndian.PutUint64(pad[n:], bits)
	c.Write(pad[:n+8])
	for _, v := range c.h {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// Write2 writes pa to a and pb to b, as a.Write(pa) and b.Write(pb) do: the blocks the
// two have in common run through both states in one pass. a and b must be distinct.
func Write2(a, b *Digest, pa, pb []byte) {
	a.start()
	b.start()
	if a.std != nil || b.std != nil || a == b {
		a.Write(pa)
		b.Write(pb)
		return
	}
	pa, pb = a.fill(pa), b.fill(pb)
	if k := min(len(pa), len(pb)) / BlockSize; k > 0 && a.nx == 0 && b.nx == 0 {
		blockx2(&a.h, &b.h, &pa[0], &pb[0], k)
		a.len += uint64(k * BlockSize)
		b.len += uint64(k * BlockSize)
		pa, pb = pa[k*BlockSize:], pb[k*BlockSize:]
	}
	a.Write(pa)
	b.Write(pb)
}

// The state's encoding is crypto/sha256's: a magic, the eight words, the block begun
// (padded with zeros to 64 bytes) and the count of bytes, all big-endian.
const (
	magic         = "sha\x03"
	marshaledSize = len(magic) + 8*4 + BlockSize + 8
)

// MarshalBinary returns d's state, in crypto/sha256's encoding.
func (d *Digest) MarshalBinary() ([]byte, error) {
	d.start()
	if d.std != nil {
		return d.std.(encoding.BinaryMarshaler).MarshalBinary()
	}
	b := make([]byte, 0, marshaledSize)
	b = append(b, magic...)
	for _, v := range d.h {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	b = append(b, d.x[:d.nx]...)
	b = b[:len(b)+BlockSize-d.nx]
	return binary.BigEndian.AppendUint64(b, d.len), nil
}

var errState = errors.New("sha256x2: not a SHA-256 state (want the 108 bytes of crypto/sha256's MarshalBinary)")

// UnmarshalBinary restores a state saved by MarshalBinary (this package's or
// crypto/sha256's).
func (d *Digest) UnmarshalBinary(b []byte) error {
	if len(b) != marshaledSize || string(b[:len(magic)]) != magic {
		return errState
	}
	d.start()
	if d.std != nil {
		return d.std.(encoding.BinaryUnmarshaler).UnmarshalBinary(b)
	}
	p := b[len(magic):]
	for i := range d.h {
		d.h[i] = binary.BigEndian.Uint32(p[4*i:])
	}
	p = p[32:]
	copy(d.x[:], p[:BlockSize])
	d.len = binary.BigEndian.Uint64(p[BlockSize:])
	d.nx = int(d.len % BlockSize)
	return nil
}

// TwoLanes reports whether Write2 runs two lanes in one pass here (amd64 with SHA-NI);
// otherwise it is two Writes, and a caller gains nothing by holding bytes back to pair
// them.
func TwoLanes() bool { return useSHANI }
