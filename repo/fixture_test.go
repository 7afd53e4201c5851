package repo

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// extractFixture unpacks testdata/repo/NAME (a repository made by restic 0.14)
// and returns the repository folder.
func extractFixture(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "repo", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(gz)
	root := ""
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h.Name, "..") {
			t.Fatalf("bad name %q", h.Name)
		}
		p := filepath.Join(dir, h.Name)
		if root == "" {
			root = filepath.Join(dir, strings.Split(h.Name, "/")[0])
		}
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o700)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o700)
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// Fixed repositories written by restic 0.14 (format 1 and format 2) open,
// check and restore to the known tree.
func TestResticFixtures(t *testing.T) {
	want := map[string]string{
		"hello.txt":      "fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f",
		"sub/text.txt":   "913e7a5d5595e6c513c52422f90840e79d43291aaf2ce099396ecea1921015f6",
		"sub/random.bin": "b5ded82231f6fd0dd0ee1cd1549e704cd2d7be21367efc035bc149dd7837a84f",
	}
	for _, name := range []string{"restic-0.14-v1.tar.gz", "restic-0.14-v2.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := extractFixture(t, name)
			r, err := Open(ctx, NewFolder(dir), []byte("fixture-password"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			mustCheck(t, r)
			if err := r.LoadIndex(ctx); err != nil {
				t.Fatal(err)
			}
			sn, err := r.FindSnapshot(ctx, "latest")
			if err != nil {
				t.Fatal(err)
			}
			if sn.Hostname != "fixture" {
				t.Errorf("hostname %q", sn.Hostname)
			}
			out := t.TempDir()
			symlinks := symlinksWork(t, out)
			if _, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Verify: true,
				Warn: func(p string, err error) {
					if !symlinks && filepath.Base(p) == "link" {
						t.Logf("%s: %v (this system makes no symlinks)", p, err)
						return
					}
					t.Errorf("%s: %v", p, err)
				}}); err != nil {
				t.Fatal(err)
			}
			// restic 0.14 was given the relative path "data": its tree starts there
			base := filepath.Join(out, "data")
			for rel, h := range want {
				b, err := os.ReadFile(filepath.Join(base, rel))
				if err != nil {
					t.Fatal(err)
				}
				s := sha256.Sum256(b)
				if hex.EncodeToString(s[:]) != h {
					t.Errorf("%s differs", rel)
				}
			}
			fi, err := os.Stat(filepath.Join(base, "sub", "random.bin"))
			if err != nil || fi.Mode().Perm() != 0o640 && runtime.GOOS != "windows" {
				// Windows keeps no permission bits, only read-only or not
				t.Errorf("mode of random.bin: %v %v", fi.Mode(), err)
			}
			fi, _ = os.Stat(filepath.Join(base, "hello.txt"))
			if fi.ModTime().Unix() != 1714979289 {
				t.Errorf("mtime of hello.txt: %v", fi.ModTime())
			}
			if l, err := os.Readlink(filepath.Join(base, "link")); (err != nil || l != "hello.txt") && symlinksWork(t, out) {
				t.Errorf("symlink: %q %v", l, err)
			}
			// and a travelkit backup goes into the same repository
			src := t.TempDir()
			os.WriteFile(filepath.Join(src, "new"), []byte("added by travelkit"), 0o644)
			if _, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "tk"}); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, openFixture(t, dir))
		})
	}
}

func openFixture(t *testing.T, dir string) *Repository {
	t.Helper()
	r, err := Open(context.Background(), NewFolder(dir), []byte("fixture-password"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
