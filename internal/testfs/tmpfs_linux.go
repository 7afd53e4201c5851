package testfs

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Tmpfs mounts a tmpfs of size on dir for the rest of the test, as Mount does, and
// unmounts it when the test ends. It skips the test when it does not run as root.
func Tmpfs(t testing.TB, dir, size string) {
	t.Helper()
	SkipUnlessRoot(t)
	if err := Mount(dir, size); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(dir) })
}

// SkipUnlessRoot skips the test when it does not run as root, which mounting needs: for a
// test that has more to set up before Tmpfs.
func SkipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs the tests as root)")
	}
}

// Mount mounts a tmpfs of size on dir, making dir first (mode 0700) when it is missing.
// size is tmpfs's size option: bytes, or a number with k, m or g (binary: "4m" is
// 4 MiB). The mount's root has mode 0700. The caller unmounts it (Unmount).
func Mount(dir, size string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return run("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir)
}

// Resize changes the size of the tmpfs mounted on dir (making room, or taking it away);
// the files on it stay.
func Resize(dir, size string) error {
	return run("mount", "-o", "remount,size="+size, dir)
}

// Unmount detaches what is mounted on dir at once, even if a file on it is still open
// (umount -l).
func Unmount(dir string) error {
	return run("umount", "-l", dir)
}

// Mounted says whether something is mounted on dir, the absolute path as the kernel
// lists it in /proc/self/mounts.
func Mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
