package luks

import (
	"crypto/rand"
	"encoding/binary"
	"hash"
)

// Anti-forensic splitter (LUKS1 AF, used by LUKS2 keyslots): the key is spread over
// `stripes` blocks so that destroying any part of the area destroys the key.

// diffuse replaces b with the diffused value: each hash-sized chunk i becomes
// H(be32(i) || chunk), truncated for the last partial chunk.
func diffuse(b []byte, newHash func() hash.Hash) {
	h := newHash()
	ds := h.Size()
	var iv [4]byte
	sum := make([]byte, 0, ds)
	for i, off := 0, 0; off < len(b); i, off = i+1, off+ds {
		end := min(off+ds, len(b))
		h.Reset()
		binary.BigEndian.PutUint32(iv[:], uint32(i))
		h.Write(iv[:])
		h.Write(b[off:end])
		sum = h.Sum(sum[:0])
		copy(b[off:end], sum)
	}
	clear(sum)
}

// afSplit spreads key over stripes blocks.
func afSplit(key []byte, stripes int, newHash func() hash.Hash) ([]byte, error) {
	n := len(key)
	out := make([]byte, n*stripes)
	if _, err := rand.Read(out[:n*(stripes-1)]); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	defer clear(buf)
	for i := 0; i < stripes-1; i++ {
		xorInto(buf, out[i*n:(i+1)*n])
		diffuse(buf, newHash)
	}
	last := out[(stripes-1)*n:]
	for i := range last {
		last[i] = buf[i] ^ key[i]
	}
	return out, nil
}

// afMerge recovers the key of size n from split material.
func afMerge(material []byte, n, stripes int, newHash func() hash.Hash) []byte {
	buf := make([]byte, n)
	for i := 0; i < stripes-1; i++ {
		xorInto(buf, material[i*n:(i+1)*n])
		diffuse(buf, newHash)
	}
	xorInto(buf, material[(stripes-1)*n:stripes*n])
	return buf
}

func xorInto(dst, src []byte) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}
