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

// A streamed file that does not fit, written in short pieces that are gathered
// (folderTemp.Write): the disk-full error comes from a later write or from
// Commit, says so (DiskFullError, ENOSPC), and no temporary file is left.
func TestFolderTempDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	testfs.Tmpfs(t, dir, "1m")
	f := NewFolder(dir)
	ctx := context.Background()
	if err := f.Create(ctx); err != nil {
		t.Fatal(err)
	}
	tf, err := f.CreateTemp(ctx, PackFile)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2, 2<<20)
	for p := data; len(p) > 0 && err == nil; p = p[min(len(p), 1000):] {
		_, err = tf.Write(p[:min(len(p), 1000)])
	}
	if err == nil {
		err = tf.Commit(ctx, Handle{Type: PackFile, Name: Hash(data).String()})
	} else {
		tf.Abort()
	}
	var full *DiskFullError
	if !errors.As(err, &full) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing 2 MiB into 1 MiB in pieces of 1000 bytes: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	t.Log(err)
}
