package ext4

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// TestReadAtRanges reads files at many offsets and lengths, block-aligned or not,
// small and large, across extent boundaries, and compares with what was written:
// a file fragmented by travelkit's writer (4 KiB blocks) and files debugfs wrote
// into mke2fs volumes of 1 KiB and 4 KiB blocks.
func TestReadAtRanges(t *testing.T) {
	type file struct {
		name string
		fs   *FS
		path string
		data []byte
	}
	var files []file

	// travelkit's writer, a file in many extents (one-block holes left by emptied files)
	dev, _ := testutil.SparseFile(t, "vol.img", 64<<20)
	if err := Format(dev, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	one := bytes.Repeat([]byte{1}, 4096)
	for i := 0; i < 60; i++ {
		if err := w.WriteFile(fmt.Sprintf("s/%d", i), bytes.NewReader(one), 4096, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 60; i += 2 {
		if err := w.WriteFile(fmt.Sprintf("s/%d", i), bytes.NewReader(nil), 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	w.lastGroup = 0
	frag := randBytes(3<<20+123, 21)
	if err := w.WriteFile("frag", bytes.NewReader(frag), int64(len(frag)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := r.Open("frag"); err != nil || len(f.exts) < 10 {
		t.Fatalf("frag: %v, want many extents", err)
	}
	files = append(files, file{"travelkit, fragmented", r, "frag", frag})

	for _, bs := range []string{"1024", "4096"} {
		dir := t.TempDir()
		img := filepath.Join(dir, "m.img")
		testutil.MustTool(t, "mke2fs", "-q", "-F", "-t", "ext4", "-b", bs, img, "32M")
		data := randBytes(1<<20+777, 22)
		src := filepath.Join(dir, "src")
		os.WriteFile(src, data, 0o600)
		debugfsW(t, img, "write "+src+" f")
		f, err := Open(openFile(t, img, false), Options{})
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file{"mke2fs -b " + bs, f, "f", data})
	}

	rng := rand.New(rand.NewSource(23))
	for _, fl := range files {
		h, err := fl.fs.Open(fl.path)
		if err != nil {
			t.Fatal(err)
		}
		size := len(fl.data)
		for i := 0; i < 3000; i++ {
			var n int
			switch i % 4 {
			case 0:
				n = rng.Intn(64) + 1
			case 1:
				n = rng.Intn(70 << 10)
			case 2:
				n = rng.Intn(300 << 10)
			default:
				n = 4096 * (rng.Intn(40) + 1)
			}
			off := rng.Intn(size)
			if i%5 == 0 {
				off = off / 4096 * 4096
			}
			p := make([]byte, n)
			for j := range p {
				p[j] = 0xee
			}
			got, err := h.ReadAt(p, int64(off))
			want := min(n, size-off)
			if got != want || (err != nil) != (off+n > size) {
				t.Fatalf("%s: ReadAt(%d bytes at %d) = %d, %v; want %d", fl.name, n, off, got, err, want)
			}
			if !bytes.Equal(p[:got], fl.data[off:off+got]) {
				t.Fatalf("%s: ReadAt(%d bytes at %d) read other bytes", fl.name, n, off)
			}
		}
	}
}
