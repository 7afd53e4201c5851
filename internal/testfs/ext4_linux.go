package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

// Ext4 mounts a fresh, journaled ext4 of size bytes (mkfs.ext4 defaults, as a
// laptop's disk) on dir for the rest of the test, from a sparse image in a
// temporary folder through a loop device, and unmounts it when the test ends
// (the loop device goes with it). For what only a real ext4 does: fallocate,
// unwritten extents, its own ENOSPC. It skips the test when it does not run as
// root, which mounting needs.
func Ext4(t testing.TB, dir string, size int64) {
	t.Helper()
	SkipUnlessRoot(t)
	img := filepath.Join(t.TempDir(), "ext4.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	if err := run("mkfs.ext4", "-q", "-F", img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := run("mount", "-o", "loop", img, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run("umount", dir); err != nil {
			t.Error(err)
		}
	})
}
