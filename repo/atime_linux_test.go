package repo

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// accessTime is the access time of path, as lstat reports it.
func accessTime(t *testing.T, path string) time.Time {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Sec, st.Atim.Nsec)
}

// TestBackupKeepsAccessTimes: a backup reads files and lists folders without changing
// their access times (O_NOATIME), so the person's access times stay theirs and the next
// backup of an unchanged folder gives the same tree: no tree is new in a no-change
// incremental, and none but those on the way to a changed file after a change.
func TestBackupKeepsAccessTimes(t *testing.T) {
	ctx := context.Background()
	r, _ := initTestRepo(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{"a/one.txt", "a/b/two.txt", "c/three.txt", "big.bin"}
	for i, f := range files {
		data := []byte("content of " + f)
		if f == "big.bin" {
			// read in pieces by the chunker, not in one read
			data = make([]byte, 3<<20)
			for j := range data {
				data[j] = byte(j*7 + i)
			}
		}
		if err := os.WriteFile(filepath.Join(src, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// access times older than the modification times: relatime updates them on a read
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	mtime := old.Add(time.Hour)
	var paths []string
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		return nil
	})
	// deepest first: setting a file's times does not touch its folder's
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Chtimes(paths[i], old, mtime); err != nil {
			t.Fatal(err)
		}
	}
	// the file system must update access times on reads, or the test shows nothing
	probe := filepath.Join(t.TempDir(), "probe")
	os.WriteFile(probe, []byte("x"), 0o644)
	os.Chtimes(probe, old, mtime)
	if _, err := os.ReadFile(probe); err != nil {
		t.Fatal(err)
	}
	if accessTime(t, probe).Equal(old) {
		t.Skip("the file system of TMPDIR does not update access times on reads (noatime)")
	}

	backup := func() *Snapshot {
		res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Snapshot
	}
	backup()
	for _, p := range paths {
		if got := accessTime(t, p); !got.Equal(old) {
			t.Errorf("%s: access time changed by the backup: %v, was %v", p, got, old)
		}
	}
	sn := backup()
	if s := sn.Summary; s.DirsChanged != 0 || s.DirsUnmodified != 4 || s.FilesUnmodified != 4 {
		t.Errorf("no-change incremental: %d folders changed, %d unmodified (want 0, 4: src, a, a/b, c), %d files unmodified (want 4)",
			s.DirsChanged, s.DirsUnmodified, s.FilesUnmodified)
	}
	// a change in c: c and src are new trees, a and a/b are not
	if err := os.WriteFile(filepath.Join(src, "c/three.txt"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	sn = backup()
	if s := sn.Summary; s.DirsUnmodified != 2 || s.FilesChanged != 1 {
		t.Errorf("after changing c/three.txt: %d folders unmodified (want 2: a, a/b), %d files changed (want 1)", s.DirsUnmodified, s.FilesChanged)
	}
}
