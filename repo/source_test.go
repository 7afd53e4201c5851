package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// checkOpened's decision: a regular file or a folder is read, through a second
// handle when it is a reparse point (Windows' deduplicated files, cloud
// placeholder folders); anything else is refused with NotRegularError or
// NotFolderError.
func TestCheckOpened(t *testing.T) {
	for _, c := range []struct {
		mode   os.FileMode
		attrs  uint32
		dir    bool
		reopen bool
		refuse bool
	}{
		{0o644, 0, false, false, false},
		{0o644, fileAttributeReparsePoint, false, true, false},
		{0o444, 0x20 | 0x1, false, false, false}, // archive, read-only
		{os.ModeSymlink | 0o666, fileAttributeReparsePoint, false, false, true},
		{os.ModeIrregular | 0o666, fileAttributeReparsePoint, false, false, true},
		{os.ModeDir | 0o777, 0x10, false, false, true},
		{os.ModeNamedPipe | 0o600, 0, false, false, true},
		{os.ModeDevice | os.ModeCharDevice | 0o666, 0, false, false, true},

		{os.ModeDir | 0o777, 0x10, true, false, false},
		{os.ModeDir | 0o777, 0x10 | fileAttributeReparsePoint, true, true, false},
		{os.ModeSymlink | 0o666, 0x10 | fileAttributeReparsePoint, true, false, true},
		{os.ModeIrregular | 0o666, 0x10 | fileAttributeReparsePoint, true, false, true},
		{0o644, 0, true, false, true},
		{os.ModeNamedPipe | 0o600, 0, true, false, true},
	} {
		reopen, err := checkOpened("p", c.mode, c.attrs, c.dir)
		var nr *NotRegularError
		var nf *NotFolderError
		wrongErr := c.dir && (!errors.As(err, &nf) || nf.Mode != c.mode) || !c.dir && (!errors.As(err, &nr) || nr.Mode != c.mode)
		if reopen != c.reopen || (err != nil) != c.refuse || err != nil && wrongErr {
			t.Errorf("checkOpened(%v, %#x, dir %v): reopen %v, %v; want reopen %v, refused %v", c.mode, c.attrs, c.dir, reopen, err, c.reopen, c.refuse)
		}
	}
}

// swapTest is the set-up of a test of a file swapped between the walk and its
// read: a repository with its index loaded, and a source folder src holding
// the files a, swapped and z; victim is swapped's path.
func swapTest(t *testing.T) (r *Repository, src, victim string) {
	t.Helper()
	r, _ = initTestRepo(t)
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	src = filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "swapped", "z"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte("content of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r, src, filepath.Join(src, "swapped")
}

// wantSnapshotFiles fails the test unless the files of snapshot sn are those
// named want (by base name, sorted).
func wantSnapshotFiles(t *testing.T, r *Repository, sn *Snapshot, want ...string) {
	t.Helper()
	var names []string
	if err := r.Walk(context.Background(), *sn.Tree, "/", func(p string, n *Node) error {
		if n.Type == NodeFile {
			names = append(names, filepath.Base(p))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, want) {
		t.Errorf("files in the snapshot: %v, want %v", names, want)
	}
}
