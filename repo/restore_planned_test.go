package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRestorePlannedBeforeWriting: a restore reads only until RestoreOptions.Planned
// returns (the restore command takes its lock meanwhile); when it returns an error,
// the restore ends with it and the target folder is not even made.
func TestRestorePlannedBeforeWriting(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	content, data := saveContent(t, r, [][]byte{randomBytes(1, 5000)})
	now := time.Now()
	sub, err := r.SaveTree(&Tree{Nodes: []*Node{{Name: "f", Type: "file", Mode: 0o644, ModTime: now, Size: uint64(len(data)), Content: content}}})
	if err != nil {
		t.Fatal(err)
	}
	root, err := r.SaveTree(&Tree{Nodes: []*Node{{Name: "d", Type: "dir", Mode: 0o755 | os.ModeDir, ModTime: now, Subtree: &sub}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &Snapshot{Time: now, Tree: &root, Paths: []string{"/x"}, Hostname: "test"}
	out := filepath.Join(t.TempDir(), "out")
	refused := errors.New("not now")
	calls := 0
	_, err = r.Restore(ctx, sn, RestoreOptions{Target: out, Planned: func() error {
		calls++
		if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the target exists before Planned returned (%v)", err)
		}
		return refused
	}})
	if !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("Restore = %v after %d calls of Planned, want Planned's error after one", err, calls)
	}
	if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the target was made although Planned refused (%v)", err)
	}
	res, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Planned: func() error { calls++; return nil }})
	if err != nil || res.Files != 1 || calls != 2 {
		t.Fatalf("Restore = %+v, %v after %d calls of Planned", res, err, calls)
	}
	if got, err := os.ReadFile(filepath.Join(out, "d", "f")); err != nil || string(got) != string(data) {
		t.Fatalf("restored %q, %v", got, err)
	}
}

// TestIndexCurrent: true while the repository's index files are the ones loaded, false
// once another appears (a prune or a backup in between) and true again after
// RefreshIndex.
func TestIndexCurrent(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	saveContent(t, r, [][]byte{randomBytes(2, 3000)})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if cur, err := r.IndexCurrent(ctx); err != nil || !cur {
		t.Fatalf("IndexCurrent after loading = %v, %v; want true", cur, err)
	}
	// a second handle writes another index file
	r2 := openTestRepo(t, NewFolder(dir))
	r2.StartSaving(ctx, 1)
	saveContent(t, r2, [][]byte{randomBytes(3, 3000)})
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if cur, err := r.IndexCurrent(ctx); err != nil || cur {
		t.Fatalf("IndexCurrent after another index file = %v, %v; want false", cur, err)
	}
	if err := r.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if cur, err := r.IndexCurrent(ctx); err != nil || !cur {
		t.Fatalf("IndexCurrent after RefreshIndex = %v, %v; want true", cur, err)
	}
}
