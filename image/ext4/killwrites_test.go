package ext4

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// writeLog is a device that records every write, so a test can rebuild the image as a
// kill -9 after any single write leaves it (exactly the writes that returned, in order).
type writeLog struct {
	*testutil.Dev
	writes []loggedWrite
}

type loggedWrite struct {
	off  int64
	data []byte
}

func (d *writeLog) WriteAt(p []byte, off int64) (int, error) {
	d.writes = append(d.writes, loggedWrite{off, append([]byte(nil), p...)})
	return d.Dev.WriteAt(p, off)
}

// TestKillAfterEachWrite: a kit's volume killed after ANY single write of a stream's
// commit (trim of its allocation step), a file written and a file removed must open
// for writing again (a bitmap and its descriptor are two writes: writeMeta orders
// them so only a leak can be left, and Open repairs the counts), and then e2fsck -fn
// finds no count errors, no block or inode in use that a bitmap marks free, no
// block claimed twice: at worst blocks or inodes marked used that nothing uses.
func TestKillAfterEachWrite(t *testing.T) {
	const size = 128 << 20
	dir := t.TempDir()
	base := filepath.Join(dir, "base.img")
	f, dev, path := newVolume(t, size, FormatOptions{})
	if err := f.MkdirAllEach("repo/data", "repo/index", "tmp"); err != nil {
		t.Fatal(err)
	}
	old := randBytes(3<<20, 3)
	if err := f.WriteFile("repo/index/old", bytes.NewReader(old), int64(len(old)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	testutil.MustTool(t, "cp", "--sparse=always", path, base)

	log := &writeLog{Dev: dev}
	f, err := Open(log, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.CreateStream("tmp/pack")
	if err != nil {
		t.Fatal(err)
	}
	writePieces(t, s, randBytes(700<<10, 5), 5)
	if err := s.Commit("repo/data/pack", time.Time{}); err != nil {
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
	t.Logf("%d writes", len(log.writes))

	applied, err := os.OpenFile(base, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer applied.Close()
	snap := filepath.Join(dir, "snap.img")
	bad := regexp.MustCompile(`(?i)count wrong for group|multiply-claimed|bitmap differences:[^\n]*\+|has deleted/unused inode|references unused`)
	leaks := 0
	for k, w := range log.writes {
		if _, err := applied.WriteAt(w.data, w.off); err != nil {
			t.Fatal(err)
		}
		if len(w.data) > 64<<10 && k+1 < len(log.writes) {
			continue // file data: no metadata changed
		}
		os.Remove(snap)
		testutil.MustTool(t, "cp", "--sparse=always", base, snap)
		fh, err := os.OpenFile(snap, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Open(&testutil.Dev{F: fh, N: size}, Options{Writable: true})
		if err != nil {
			fh.Close()
			t.Fatalf("killed after write %d of %d (%d bytes at block %d): the next opening for writing: %v", k+1, len(log.writes), len(w.data), w.off/4096, err)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		out, _ := testutil.Tool(t, "e2fsck", "-fn", snap)
		if os.Getenv("KILLWRITES_SHOW") != "" {
			t.Logf("write %d:\n%s", k+1, out)
		}
		if m := bad.FindString(out); m != "" {
			t.Errorf("killed after write %d of %d, opened and closed: e2fsck -fn reports %q:\n%s", k+1, len(log.writes), m, out)
		}
		if strings.Contains(out, "differences") {
			leaks++
		}
	}
	t.Logf("kill points with a leak e2fsck reports: %d", leaks)
	fsck(t, path) // not killed: nothing leaked
}
