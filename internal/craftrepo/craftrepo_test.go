package craftrepo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The writer is checked against restic itself: what it writes passes
// `restic check --read-data` and restores to the files it describes.
func TestResticReadsCraftedRepository(t *testing.T) {
	dir := t.TempDir()
	r := New("pw")
	hello := r.FileBlob("hello.txt", 0o640, []byte("hello, world\n"))
	r.Compress = false
	plain := r.FileBlob("plain.bin", 0o600, bytes.Repeat([]byte{7}, 5000))
	r.Compress = true
	sub := r.Tree(hello, plain, Symlink("link", "hello.txt"))
	root := r.Tree(Dir("sub", sub, 0o750))
	r.Snapshot(root, time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC), "/sub")
	if err := r.WriteDir(filepath.Join(dir, "repo")); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("pw"), 0o600)
	restic := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("restic", append([]string{"-r", filepath.Join(dir, "repo"), "--password-file", pw, "--no-cache", "--no-lock"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("restic %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	restic("check", "--read-data")
	restic("restore", "latest", "--target", filepath.Join(dir, "out"))
	b, err := os.ReadFile(filepath.Join(dir, "out", "sub", "hello.txt"))
	if err != nil || string(b) != "hello, world\n" {
		t.Fatalf("restored hello.txt: %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dir, "out", "sub", "link")); err != nil || l != "hello.txt" {
		t.Fatalf("restored link: %q, %v", l, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out", "sub", "plain.bin")); len(b) != 5000 {
		t.Fatalf("plain.bin: %d bytes", len(b))
	}
}

// ZstdRLE frames decode to what they say, with and without a declared size.
func TestZstdRLE(t *testing.T) {
	for _, n := range []int64{1, 5, 128 << 10, 128<<10 + 1, 1 << 20} {
		for _, ws := range []bool{false, true} {
			f := ZstdRLE(n, 'x', ws)
			cmd := exec.Command("zstd", "-dc")
			cmd.Stdin = bytes.NewReader(f)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("zstd -d of %d bytes (size %v): %v", n, ws, err)
			}
			if int64(len(out)) != n || bytes.Count(out, []byte{'x'}) != int(n) {
				t.Fatalf("%d bytes: decoded %d", n, len(out))
			}
		}
	}
}
