package target

import (
	"bytes"
	"errors"
	mrand "math/rand/v2"
	"testing"
)

// strict is a device that refuses anything but whole aligned blocks, like a raw disk.
type strict struct {
	b  []byte
	bs int64
}

func (s *strict) check(p []byte, off int64) error {
	if off%s.bs != 0 || int64(len(p))%s.bs != 0 {
		return errors.New("unaligned")
	}
	return nil
}
func (s *strict) ReadAt(p []byte, off int64) (int, error) {
	if err := s.check(p, off); err != nil {
		return 0, err
	}
	return copy(p, s.b[off:]), nil
}
func (s *strict) WriteAt(p []byte, off int64) (int, error) {
	if err := s.check(p, off); err != nil {
		return 0, err
	}
	return copy(s.b[off:], p), nil
}
func (s *strict) Sync() error  { return nil }
func (s *strict) Close() error { return nil }

func TestAligned(t *testing.T) {
	const size = 1 << 20
	s := &strict{b: make([]byte, size), bs: 4096}
	a := newAligned(s, 4096)
	model := make([]byte, size)
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		n := r.IntN(20000)
		off := r.IntN(size - n)
		buf := make([]byte, n)
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		if w, err := a.WriteAt(buf, int64(off)); err != nil || w != n {
			t.Fatal(w, err)
		}
		copy(model[off:], buf)
		got := make([]byte, r.IntN(9000))
		roff := r.IntN(size - len(got))
		if _, err := a.ReadAt(got, int64(roff)); err != nil || !bytes.Equal(got, model[roff:roff+len(got)]) {
			t.Fatalf("read %d@%d: %v", len(got), roff, err)
		}
	}
	if !bytes.Equal(s.b, model) {
		t.Fatal("device differs from model")
	}
}
