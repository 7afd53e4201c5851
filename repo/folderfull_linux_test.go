package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// A folder repository on a full disk: the error says so, with the file's size
// (DiskFullError, errors.Is ENOSPC), and leaves no temporary file.
func TestFolderDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs the tests as root)")
	}
	dir := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(dir, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
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
