package ext4

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// snapshot copies the image as it is on the device now: what a crash at this moment
// leaves.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "crash.img")
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

func openImage(t *testing.T, path string, size int64) *FS {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	f, err := Open(&testutil.Dev{F: fh, N: size}, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// writePieces writes data in pieces of random sizes.
func writePieces(t *testing.T, s *Stream, data []byte, seed int64) {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	for len(data) > 0 {
		n := min(len(data), 1+rnd.Intn(300<<10))
		if rnd.Intn(4) == 0 {
			n = min(len(data), 1+rnd.Intn(40))
		}
		if k, err := s.Write(data[:n]); err != nil || k != n {
			t.Fatalf("write: %d %v", k, err)
		}
		data = data[n:]
	}
}

// TestStream: a file written as a stream reads back under its final name, takes
// only the blocks it needs, and only whole aligned blocks reach the device; an
// aborted stream gives everything back; e2fsck accepts the result.
func TestStream(t *testing.T) {
	const size = 128 << 20
	fdev, path := testutil.SparseFile(t, "vol.img", size)
	if err := Format(fdev, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(aligned{fdev}, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MkdirAll("repo/data/00"); err != nil {
		t.Fatal(err)
	}
	free0 := f.FreeBlocks()
	for i, n := range []int{0, 1, 4095, 4096, 1 << 20, 20<<20 + 777} {
		data := randBytes(n, int64(i))
		s, err := f.CreateStream("repo/data/00/stream-tmp-x")
		if err != nil {
			t.Fatal(err)
		}
		writePieces(t, s, data, int64(i))
		final := "repo/data/ab/f" + strings.Repeat("0", i)
		if err := s.Commit(final, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.ReadFile(final); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d bytes, %v", n, len(got), err)
		}
		// the temporary name goes after the next flush (the next CreateStream
		// of the same name flushes and removes it)
		st, _ := f.Stat(final)
		if tmp, err := f.Stat("repo/data/00/stream-tmp-x"); err == nil && tmp.Ino != st.Ino {
			t.Fatalf("temporary name left for another file: %v", tmp)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if st.Links != 1 {
			t.Fatalf("%d links", st.Links)
		}
	}
	used := free0 - f.FreeBlocks()
	want := uint64((20<<20+777+4095)/4096 + (1<<20)/4096 + 1 + 1 + 1 + 0)
	if used < want || used > want+8 { // + a data/ab folder block and an extent leaf at most
		t.Fatalf("%d blocks used for %d blocks of data", used, want)
	}
	// rewinds: into blocks already written (a partial block is read back), and
	// within the buffer
	{
		s, err := f.CreateStream("repo/data/00/stream-tmp-r")
		if err != nil {
			t.Fatal(err)
		}
		a, b, c := randBytes(3<<20+100, 21), randBytes(2<<20+5, 22), randBytes(300, 23)
		writePieces(t, s, a, 21)
		keep := int64(1<<20 + 512<<10 + 777)
		if err := s.Rewind(keep); err != nil {
			t.Fatal(err)
		}
		writePieces(t, s, b, 22)
		if err := s.Rewind(s.Size() - 1000); err != nil {
			t.Fatal(err)
		}
		writePieces(t, s, c, 23)
		if err := s.Rewind(s.Size() + 1); err == nil {
			t.Fatal("rewind past the end")
		}
		if err := s.Commit("repo/data/ab/rewound", time.Time{}); err != nil {
			t.Fatal(err)
		}
		want := append(append(append([]byte(nil), a[:keep]...), b[:len(b)-1000]...), c...)
		if got, err := f.ReadFile("repo/data/ab/rewound"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("rewound file: %d bytes (want %d), %v", len(got), len(want), err)
		}
		if err := f.Remove("repo/data/ab/rewound"); err != nil {
			t.Fatal(err)
		}
	}
	// an existing name: refused, the temporary file removed
	s, err := f.CreateStream("repo/data/00/stream-tmp-y")
	if err != nil {
		t.Fatal(err)
	}
	writePieces(t, s, randBytes(3<<20, 9), 9)
	free1 := f.FreeBlocks()
	if err := s.Commit("repo/data/ab/f", time.Time{}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("commit over an existing file: %v", err)
	}
	// abort: every block back
	s, err = f.CreateStream("repo/data/00/stream-tmp-z")
	if err != nil {
		t.Fatal(err)
	}
	writePieces(t, s, randBytes(9<<20, 10), 10)
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("x")); err == nil {
		t.Fatal("write after abort")
	}
	if f.FreeBlocks() < free1 {
		t.Fatalf("free blocks %d after abort, %d before the stream", f.FreeBlocks(), free1)
	}
	ents, _ := f.ReadDir("repo/data/00")
	if len(ents) != 0 {
		t.Fatalf("left in data/00: %v", ents)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
}

// TestStreamCrash: a crash while a stream is written, or between the new name and
// the removal of the temporary one, leaves a volume where removing the temporary
// name (Remove for a file of its own, RemoveName for one renamed) gives back every
// block, keeps the renamed file whole, and satisfies e2fsck.
func TestStreamCrash(t *testing.T) {
	const size = 128 << 20
	f, _, path := newVolume(t, size, FormatOptions{})
	if err := f.MkdirAll("repo/data/00"); err != nil {
		t.Fatal(err)
	}
	if err := f.MkdirAll("repo/data/cd"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = openImage(t, path, size)
	free0 := f.FreeBlocks()
	data := randBytes(18<<20+5, 3)

	// 1. mid-stream: 11 MiB written, more allocated
	s, err := f.CreateStream("repo/data/00/stream-tmp-1")
	if err != nil {
		t.Fatal(err)
	}
	writePieces(t, s, data[:11<<20], 1)
	mid := snapshot(t, path)

	// 2. committed under both names
	var both, complete string
	testHook = func(step string) {
		if step == "renamed" {
			both = snapshot(t, path)
		} else {
			complete = snapshot(t, path)
		}
	}
	defer func() { testHook = nil }()
	writePieces(t, s, data[11<<20:], 2)
	if err := s.Commit("repo/data/cd/pack", time.Time{}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, img string
		renamed   bool
	}{{"mid-stream", mid, false}, {"complete", complete, false}, {"both names", both, true}} {
		g := openImage(t, c.img, size)
		st, err := g.Stat("repo/data/00/stream-tmp-1")
		if err != nil {
			t.Fatalf("%s: temporary file: %v", c.name, err)
		}
		if c.renamed {
			if fin, err := g.Stat("repo/data/cd/pack"); err != nil || fin.Ino != st.Ino {
				t.Fatalf("%s: final name %v %v", c.name, fin, err)
			}
			err = g.RemoveName("repo/data/00/stream-tmp-1")
		} else {
			if _, err := g.Stat("repo/data/cd/pack"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s: final name before the commit: %v", c.name, err)
			}
			err = g.Remove("repo/data/00/stream-tmp-1")
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		fsck(t, c.img)
		g = openImage(t, c.img, size)
		want := free0
		if c.renamed {
			want -= uint64(len(data)+4095) / 4096
			if got, err := g.ReadFile("repo/data/cd/pack"); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s: renamed file: %d bytes %v", c.name, len(got), err)
			}
		}
		if got := g.FreeBlocks(); got != want {
			t.Fatalf("%s: %d free blocks, want %d (%d leaked)", c.name, got, want, int64(want)-int64(got))
		}
	}
}

// inPlace is a device with WriteAtInPlace that spoils the buffer after writing it,
// as a LUKS volume's in-place encryption does: a Stream must not read a buffer back
// once written.
type inPlace struct{ aligned }

func (d inPlace) WriteAtInPlace(p []byte, off int64) (int, error) {
	n, err := d.WriteAt(p, off)
	for i := range p {
		p[i] = 0xA5
	}
	return n, err
}

// newStreamVolume formats a volume of size bytes in a sparse file (path),
// opened writable on a device that writes in place, with the folder packs are
// streamed into (repo/data/00).
func newStreamVolume(t *testing.T, size int64) (*FS, string) {
	t.Helper()
	dev, path := testutil.SparseFile(t, "vol.img", size)
	if err := Format(dev, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(inPlace{aligned{dev}}, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MkdirAll("repo/data/00"); err != nil {
		t.Fatal(err)
	}
	return f, path
}

// TestStreamShared: streams given a lock by Share write at the same time from
// several goroutines (other files written under the lock meanwhile), each with
// rewinds; every file reads back whole, and e2fsck accepts the result.
func TestStreamShared(t *testing.T) {
	const size = 256 << 20
	f, path := newStreamVolume(t, size)
	var mu sync.Mutex
	const streams = 4
	want := make([][]byte, streams)
	errs := make(chan error, streams+1)
	var wg sync.WaitGroup
	for i := 0; i < streams; i++ {
		want[i] = randBytes(17<<20+i*4099, int64(100+i))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mu.Lock()
			s, err := f.CreateStream(fmt.Sprintf("repo/data/00/stream-tmp-%d", i))
			mu.Unlock()
			if err != nil {
				errs <- err
				return
			}
			s.Share(&mu)
			data := want[i]
			rnd := rand.New(rand.NewSource(int64(i)))
			for off := 0; off < len(data); {
				n := min(len(data)-off, 1+rnd.Intn(300<<10))
				if _, err := s.Write(data[off : off+n]); err != nil {
					errs <- err
					return
				}
				if rnd.Intn(8) == 0 { // write junk, then rewind over it
					if _, err := s.Write(randBytes(1+rnd.Intn(5000), int64(off))); err != nil {
						errs <- err
						return
					}
					if err := s.Rewind(int64(off + n)); err != nil {
						errs <- err
						return
					}
				}
				off += n
			}
			mu.Lock()
			defer mu.Unlock()
			if err := s.Commit(fmt.Sprintf("repo/data/%02x/pack%d", i, i), time.Time{}); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Add(1)
	go func() { // other files under the lock meanwhile
		defer wg.Done()
		for k := 0; k < 20; k++ {
			b := randBytes(5000*k+1, int64(k))
			mu.Lock()
			err := f.WriteFile(fmt.Sprintf("repo/index-%d", k), bytes.NewReader(b), int64(len(b)), time.Time{})
			mu.Unlock()
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < streams; i++ {
		got, err := f.ReadFile(fmt.Sprintf("repo/data/%02x/pack%d", i, i))
		if err != nil || !bytes.Equal(got, want[i]) {
			t.Fatalf("pack %d reads back wrong (%d of %d bytes): %v", i, len(got), len(want[i]), err)
		}
	}
	if err := f.Close(); err != nil { // removes the temporary names
		t.Fatal(err)
	}
	fsck(t, path)
	g := openImage(t, path, size)
	if ents, _ := g.ReadDir("repo/data/00"); len(ents) != 1 { // pack0 only
		t.Fatalf("repo/data/00 holds %d entries after the commits, want 1", len(ents))
	}
}

// flushSpy is a device that calls after each time a flush made its writes durable.
type flushSpy struct {
	*testutil.Dev
	after func()
}

func (d flushSpy) Flush() error {
	if err := d.F.Sync(); err != nil {
		return err
	}
	d.after()
	return nil
}

// TestStreamTempNameAfterFlush: a committed Stream's temporary name is removed only
// after a flush made its final name durable (a power cut keeps at most the writes
// since the last flush, in any order, so the removal must not share a flush interval
// with the new name: the file would then have no name at all), and by Close at the
// latest.
func TestStreamTempNameAfterFlush(t *testing.T) {
	const size = 128 << 20
	f, _, path := newVolume(t, size, FormatOptions{})
	if err := f.MkdirAllEach("repo/data/00", "repo/data/cd", "repo/index"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	const tmp, final = "repo/data/00/stream-tmp-q", "repo/data/cd/pack"
	type names struct{ tmp, final bool }
	var flushed []names // the names on the device at each flush
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	spy := flushSpy{Dev: &testutil.Dev{F: fh, N: size}}
	spy.after = func() {
		g, err := Open(&testutil.Dev{F: ro, N: size}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, e1 := g.Stat(tmp)
		_, e2 := g.Stat(final)
		flushed = append(flushed, names{e1 == nil, e2 == nil})
	}
	f, err = Open(spy, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.CreateStream(tmp)
	if err != nil {
		t.Fatal(err)
	}
	writePieces(t, s, randBytes(5<<20+3, 7), 7)
	if err := s.Commit(final, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// what a repository does next: an index file
	if err := f.WriteFile("repo/index/i", bytes.NewReader([]byte("index")), 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	last := flushed[len(flushed)-1]
	if last.tmp || !last.final {
		t.Fatalf("after Close: temporary name there %v, final name there %v", last.tmp, last.final)
	}
	for k := 1; k < len(flushed); k++ {
		if flushed[k-1].tmp && !flushed[k].tmp && !flushed[k-1].final {
			t.Fatalf("flush %d: the temporary name was removed in the same flush interval as the final name was written (flushes: %v)", k, flushed)
		}
	}
	fsck(t, path)
}

// TestWriteFileLaterBeforeRemove: a name WriteFileLater wrote without a flush is
// durable before a later removal is written (a repository names a new index, then
// removes the old one: a power cut must not keep the removal and lose the new name).
func TestWriteFileLaterBeforeRemove(t *testing.T) {
	const size = 64 << 20
	f, _, path := newVolume(t, size, FormatOptions{})
	if err := f.WriteFile("repo/index/old", bytes.NewReader([]byte("old")), 3, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	type names struct{ old, new bool }
	var flushed []names
	spy := flushSpy{Dev: &testutil.Dev{F: fh, N: size}}
	spy.after = func() {
		g, err := Open(&testutil.Dev{F: ro, N: size}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, e1 := g.Stat("repo/index/old")
		_, e2 := g.Stat("repo/index/new")
		flushed = append(flushed, names{e1 == nil, e2 == nil})
	}
	f, err = Open(spy, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFileLater("repo/index/new", bytes.NewReader([]byte("new")), 3, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("repo/index/old"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if last := flushed[len(flushed)-1]; last.old || !last.new {
		t.Fatalf("after Close: %+v", last)
	}
	for k := 1; k < len(flushed); k++ {
		if flushed[k-1].old && !flushed[k].old && !flushed[k-1].new {
			t.Fatalf("flush %d: the old name was removed in the flush interval the new one was written in (flushes: %+v)", k, flushed)
		}
	}
	fsck(t, path)
}

// TestStreamReclaim: blocks that open Streams were given in steps (24 MiB each)
// and have not written do not make the volume full for a file that fits. Three
// Streams are started on a 64 MiB volume (two get a step, the third finds no
// room for one); a file larger than what is left free is written, then the three
// write, at once, as much as fits beside it; every file reads back, and e2fsck
// finds no leaked block.
func TestStreamReclaim(t *testing.T) {
	const size = 64 << 20
	f, path := newStreamVolume(t, size)
	free0 := int64(f.FreeBlocks()) * f.bs
	var mu sync.Mutex
	const streams = 3
	ss := make([]*Stream, streams)
	for i := range ss {
		var err error
		if ss[i], err = f.CreateStream(fmt.Sprintf("repo/data/00/stream-tmp-%d", i)); err != nil {
			t.Fatal(err)
		}
		ss[i].Share(&mu)
	}
	left := int64(f.FreeBlocks()) * f.bs
	if free0-left < 2*streamStep {
		t.Fatalf("the streams were given %d bytes, want two steps (%d)", free0-left, 2*streamStep)
	}
	// a whole file larger than what is left: it fits only in the steps' blocks
	index := randBytes(int(left)+8<<20, 7)
	if err := f.WriteFile("repo/index-0", bytes.NewReader(index), int64(len(index)), time.Time{}); err != nil {
		t.Fatalf("a %d-byte file with %d bytes free and %d given to streams that wrote nothing: %v",
			len(index), left, free0-left, err)
	}
	// the streams write what fits beside it (room for folders' and extent trees'
	// blocks): the first takes a step and writes 1 MiB of it, the two others
	// write theirs at once (more than is left beside the first's step), then the
	// first writes the rest
	per := (free0 - int64(len(index)) - 2<<20) / streams
	want := make([][]byte, streams)
	for i := range want {
		want[i] = randBytes(int(per)-i*4099, int64(200+i))
	}
	write := func(i, from, to int) error {
		s, data := ss[i], want[i]
		rnd := rand.New(rand.NewSource(int64(i)))
		for off := from; off < to; {
			n := min(to-off, 1+rnd.Intn(300<<10))
			if _, err := s.Write(data[off : off+n]); err != nil {
				mu.Lock()
				defer mu.Unlock()
				return fmt.Errorf("stream %d at %d of %d bytes (%d bytes free): %w", i, off, len(data), int64(f.FreeBlocks())*f.bs, err)
			}
			off += n
		}
		return nil
	}
	commit := func(i int) error {
		mu.Lock()
		defer mu.Unlock()
		return ss[i].Commit(fmt.Sprintf("repo/data/%02x/pack%d", i, i), time.Time{})
	}
	if err := write(0, 0, 1<<20); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, streams)
	var wg sync.WaitGroup
	for i := 1; i < streams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := write(i, 0, len(want[i]))
			if err == nil {
				err = commit(i)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := write(0, 1<<20, len(want[0])); err != nil {
		t.Fatal(err)
	}
	if err := commit(0); err != nil {
		t.Fatal(err)
	}
	for i := range ss {
		got, err := f.ReadFile(fmt.Sprintf("repo/data/%02x/pack%d", i, i))
		if err != nil || !bytes.Equal(got, want[i]) {
			t.Fatalf("pack %d reads back wrong (%d of %d bytes): %v", i, len(got), len(want[i]), err)
		}
	}
	if got, err := f.ReadFile("repo/index-0"); err != nil || !bytes.Equal(got, index) {
		t.Fatalf("the index reads back wrong (%d of %d bytes): %v", len(got), len(index), err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
}
