package repo

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"travelkit/internal/testfs"
)

// A folder repository on a full disk: the error says so, with the file's size
// (DiskFullError, errors.Is ENOSPC), and leaves no temporary file.
func TestFolderDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	testfs.Tmpfs(t, dir, "1m")
	f := NewFolder(dir)
	ctx := context.Background()
	if err := f.Create(ctx); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(1, 2<<20)
	err := f.Save(ctx, Handle{Type: PackFile, Name: Hash(data).String()}, data)
	var full *DiskFullError
	if !errors.As(err, &full) || !errors.Is(err, syscall.ENOSPC) || full.Need != int64(len(data)) {
		t.Fatalf("saving 2 MiB into 1 MiB: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	t.Log(err)
}
