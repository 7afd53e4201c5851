package testfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A 1 MiB tmpfs refuses a 2 MiB file with ENOSPC; resized to 4 MiB it takes it; it is
// unmounted when the test ends (here: by Unmount, as the cleanup does).
func TestTmpfsFillsUp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	Tmpfs(t, dir, "1m")
	if !Mounted(dir) {
		t.Fatalf("%s: not mounted", dir)
	}
	data := make([]byte, 2<<20)
	err := os.WriteFile(filepath.Join(dir, "big"), data, 0o600)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("2 MiB into 1 MiB: %v", err)
	}
	if err := Resize(dir, "4m"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), data, 0o600); err != nil {
		t.Fatalf("2 MiB into 4 MiB: %v", err)
	}
	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if Mounted(dir) {
		t.Fatalf("%s: still mounted", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "big")); !os.IsNotExist(err) {
		t.Fatalf("the file is still there after Unmount: %v", err)
	}
}
