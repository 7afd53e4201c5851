package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A block device with the kernel's read-only flag opens read-write on Linux, but every
// write fails: writing commands must refuse it up front. Needs root for losetup.
func TestReadOnlyBlockDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to set up a read-only loop device")
	}
	img := filepath.Join(t.TempDir(), "ro.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--read-only", "--find", "--show", img).Output()
	if err != nil {
		t.Fatalf("losetup --read-only (util-linux): %v", err)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()

	_, err = openDevice(loop, true)
	if err == nil || !strings.Contains(err.Error(), "is read-only") || exitCodeOf(err) != ExitError {
		t.Fatalf("openDevice(read-only %s, write): %v", loop, err)
	}
	d, err := openDevice(loop, false)
	if err != nil {
		t.Fatalf("openDevice(read-only %s, read): %v", loop, err)
	}
	defer d.Close()
	if d.size != 1<<20 || !d.block {
		t.Errorf("size %d block %v, want 1 MiB block device", d.size, d.block)
	}
}
