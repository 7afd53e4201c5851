//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRestoreFindsTheKit: restore without --target or --repo finds the kit drive, here a
// loop device (a disk to the kernel), as on a fresh computer.
func TestRestoreFindsTheKit(t *testing.T) {
	dir := t.TempDir()
	k := writeTestKit(t, dir, "found-kit")
	pass := k.Pass
	img := filepath.Join(dir, "kit.img")
	k.build(t, img, "200MiB")
	if code := run([]string{"backup", "--target", img, "--passphrase-file", pass, k.Src}); code != 0 {
		t.Fatalf("backup: exit %d", code)
	}
	// Kits on loop devices are seen by every restore that looks for kits: hold a lock,
	// machine-wide, while ours is attached, so that two runs of this test do not see each
	// other's.
	unlock := lockLoopKits(t)
	defer unlock()
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()

	// restore without --target or --repo: one kit plugged in, it is found and used
	to := filepath.Join(dir, "restored")
	var code int
	stderr := captureStderr(t, func() {
		code = run([]string{"restore", "--passphrase-file", pass, "latest", "--to", to})
	})
	if strings.Contains(stderr, "several kit drives") {
		t.Fatalf("other kits are attached besides %s (a stale loop device? see losetup -l; detach it with losetup -d):\n%s", loop, stderr)
	}
	if code != ExitOK {
		t.Fatalf("restore without --target: exit %d\n%s", code, stderr)
	}
	if want := fmt.Sprintf("Using the kit %q on %s.", "found-kit", loop); !strings.Contains(stderr, want) {
		t.Fatalf("restore did not say which kit it found (want %q):\n%s", want, stderr)
	}
	got, err := os.ReadFile(filepath.Join(to, k.Src, "doc.txt"))
	if err != nil || string(got) != testKitDocument {
		t.Fatalf("restored file: %q %v", got, err)
	}

	// a second kit plugged in: restore lists both and asks which (exit 2), restoring nothing
	img2 := filepath.Join(dir, "kit2.img")
	k.build(t, img2, "200MiB")
	out, err = exec.Command("losetup", "--find", "--show", img2).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v %s", err, out)
	}
	loop2 := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop2).Run()
	to2 := filepath.Join(dir, "restored2")
	stderr = captureStderr(t, func() {
		code = run([]string{"restore", "--passphrase-file", pass, "latest", "--to", to2})
	})
	if code != ExitUsage || !strings.Contains(stderr, "several kit drives") ||
		!strings.Contains(stderr, "--target "+loop+" ") || !strings.Contains(stderr, "--target "+loop2+" ") {
		t.Fatalf("two kits plugged in: exit %d, want %d and both listed (%s, %s):\n%s", code, ExitUsage, loop, loop2, stderr)
	}
	if _, err := os.Stat(to2); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("with two kits and no choice, restore wrote %s (%v)", to2, err)
	}
}

// lockLoopKits takes a machine-wide lock for tests that attach kits as loop devices.
func lockLoopKits(t *testing.T) (unlock func()) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "travelkit-test-loop-kits.lock"), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		done <- b.String()
	}()
	f()
	os.Stderr = old
	w.Close()
	return <-done
}
