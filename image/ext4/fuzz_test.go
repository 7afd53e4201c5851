package ext4

import (
	"bytes"
	"os"
	"runtime"
	"testing"
	"time"
)

type memDev struct{ b []byte }

func (m *memDev) Size() int64 { return int64(len(m.b)) }
func (m *memDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, os.ErrInvalid
	}
	return copy(p, m.b[off:]), nil
}
func (m *memDev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, os.ErrInvalid
	}
	return copy(m.b[off:], p), nil
}

const fuzzHead = 64 << 10

// FuzzOpen mutates the first 64 KiB (superblock, descriptors, bitmaps, the
// first inodes) of a small volume; the reader must fail cleanly or work.
func FuzzOpen(f *testing.F) {
	base := &memDev{b: make([]byte, 16<<20)}
	if err := Format(base, FormatOptions{Label: "fuzz", Time: time.Unix(1e9, 0)}); err != nil {
		f.Fatal(err)
	}
	w, err := Open(base, Options{Writable: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"a/b/c.txt", "d.txt"} {
		if err := w.WriteFile(p, bytes.NewReader([]byte("hello")), 5, time.Time{}); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(append([]byte(nil), base.b[:fuzzHead]...))
	f.Fuzz(func(t *testing.T, head []byte) {
		d := &memDev{b: append([]byte(nil), base.b...)}
		copy(d.b, head)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		defer func() {
			runtime.ReadMemStats(&after)
			// the superblock's counts (groups, descriptors, inode size) and an inode's
			// size are the hostile part; what is read is bounded by the 16 MiB volume
			if a := after.TotalAlloc - before.TotalAlloc; a > 8*uint64(len(d.b)) {
				t.Fatalf("reading a %d-byte volume allocated %d bytes", len(d.b), a)
			}
		}()
		fs, err := Open(d, Options{})
		if err != nil {
			return
		}
		budget := 20
		var walk func(p string, depth int)
		walk = func(p string, depth int) {
			if depth > 8 || budget <= 0 {
				return
			}
			budget--
			ents, err := fs.ReadDir(p)
			if err != nil {
				return
			}
			for _, e := range ents {
				q := p + "/" + e.Name
				if e.IsDir() {
					walk(q, depth+1)
				} else if e.Mode.IsRegular() && e.Size < 1<<20 {
					_, _ = fs.ReadFile(q)
				}
			}
		}
		walk("", 0)
	})
}
