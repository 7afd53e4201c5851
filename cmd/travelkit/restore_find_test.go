package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreFindsTheKit: restore without --target or --repo finds the kit drive, here a
// loop device (a disk to the kernel), as on a fresh computer.
func TestRestoreFindsTheKit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prof := write("kit.toml", "name = \"found-kit\"\n[drive]\ntools_size = \"64MiB\"\n[luks]\npbkdf = \"pbkdf2\"\npbkdf_iterations = 1000\n[tools]\nplatforms = [\"linux/amd64\"]\n")
	write("dist/travelkit-linux-amd64", "stand-in")
	pass := write("pass", "passphrase")
	write("home/doc.txt", "a document")
	img := filepath.Join(dir, "kit.img")
	if code := run([]string{"build", "--profile", prof, "--target", img, "--size", "200MiB", "--binaries", filepath.Join(dir, "dist"), "--passphrase-file", pass, "--yes", "--allow-weak-passphrase"}); code != 0 {
		t.Fatalf("build: exit %d", code)
	}
	if code := run([]string{"backup", "--target", img, "--passphrase-file", pass, filepath.Join(dir, "home")}); code != 0 {
		t.Fatalf("backup: exit %d", code)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()

	to := filepath.Join(dir, "restored")
	stderr := captureStderr(t, func() {
		if code := run([]string{"restore", "--passphrase-file", pass, "latest", "--to", to}); code != 0 {
			t.Logf("restore without --target: exit %d", code)
		}
	})
	if strings.Contains(stderr, "several kit drives") {
		// other tests may have kits on loop devices right now: ours must be listed
		if !strings.Contains(stderr, loop) {
			t.Fatalf("%s not among the kits found:\n%s", loop, stderr)
		}
		return
	}
	if !strings.Contains(stderr, "found-kit") || !strings.Contains(stderr, loop) {
		t.Fatalf("restore did not name the kit it found:\n%s", stderr)
	}
	got, err := os.ReadFile(filepath.Join(to, dir, "home", "doc.txt"))
	if err != nil || string(got) != "a document" {
		t.Fatalf("restored file: %q %v", got, err)
	}
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
