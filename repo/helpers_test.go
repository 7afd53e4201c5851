package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

const testPassword = "correct horse battery staple"

func init() {
	DefaultKDF = KDFParams{N: 1 << 10, R: 8, P: 1}
}

// resticCmd runs the real restic (Debian package "restic") on repo dir.
func resticCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("restic"); err != nil {
		t.Fatalf("restic is needed for this test (apt-get install restic): %v", err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("restic", append([]string{"-r", dir, "--no-cache", "-q"}, args...)...)
	cmd.Env = append(os.Environ(), "RESTIC_PASSWORD_FILE="+pw, "RESTIC_CACHE_DIR="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("restic %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func initTestRepo(t *testing.T) (*Repository, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	r, err := Init(context.Background(), NewFolder(dir), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

// saveContent saves each of blobs as a data blob of r and returns the content list of a
// file made of them, in order, and that file's bytes.
func saveContent(t *testing.T, r *Repository, blobs [][]byte) ([]ID, []byte) {
	t.Helper()
	var content []ID
	var data []byte
	for _, b := range blobs {
		id := Hash(b)
		if _, err := r.SaveBlob(DataBlob, id, b, nil); err != nil {
			t.Fatal(err)
		}
		content = append(content, id)
		data = append(data, b...)
	}
	return content, data
}

func openTestRepo(t *testing.T, st Storage) *Repository {
	t.Helper()
	return openTestRepoWith(t, st, func(*Repository) {})
}

// openForBackup opens the repository with its index loaded as a backup loads
// it (IndexForBackup).
func openForBackup(t *testing.T, st Storage) *Repository {
	t.Helper()
	return openTestRepoWith(t, st, (*Repository).IndexForBackup)
}

// openTestRepoWith opens the repository, calls before, then loads the index.
func openTestRepoWith(t *testing.T, st Storage, before func(*Repository)) *Repository {
	t.Helper()
	r, err := Open(context.Background(), st, []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	before(r)
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// makeTree writes a small tree with every kind of metadata we keep.
func makeTree(t *testing.T, root string, seed int64) {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rndBytes := func(n int) []byte {
		b := make([]byte, n)
		rnd.Read(b)
		return b
	}
	text := func(n int) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			fmt.Fprintf(&b, "line %d of some compressible text %d\n", b.Len(), rnd.Intn(100))
		}
		return b.Bytes()[:n]
	}
	must(os.MkdirAll(filepath.Join(root, "docs", "deep", "er"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "empty-dir"), 0o700))
	must(os.WriteFile(filepath.Join(root, "docs", "big.bin"), rndBytes(3<<20), 0o644))
	must(os.WriteFile(filepath.Join(root, "docs", "text.txt"), text(2<<20), 0o600))
	must(os.WriteFile(filepath.Join(root, "docs", "deep", "small"), text(1000), 0o444))
	must(os.WriteFile(filepath.Join(root, "docs", "deep", "er", "exec.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.WriteFile(filepath.Join(root, "empty"), nil, 0o644))
	must(os.WriteFile(filepath.Join(root, "caf\u00e9-nfc"), []byte("nfc"), 0o644))
	must(os.WriteFile(filepath.Join(root, "cafe\u0301-nfd"), []byte("nfd"), 0o644))
	must(os.WriteFile(filepath.Join(root, "bad-\xff\xfe-name"), []byte("not utf8"), 0o644))
	must(os.WriteFile(filepath.Join(root, "dup1"), text(700<<10), 0o644))
	if symlinksWork(t, root) {
		must(os.Symlink("docs/text.txt", filepath.Join(root, "link-rel")))
		must(os.Symlink("/nonexistent/target", filepath.Join(root, "link-dangling")))
		must(os.Symlink("docs", filepath.Join(root, "link-dir")))
	}
	must(os.Link(filepath.Join(root, "dup1"), filepath.Join(root, "hardlink")))
	// fixed mtimes so that trees compare
	base := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	i := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		i++
		return os.Chtimes(p, base, base.Add(time.Duration(i)*time.Hour))
	})
}

// symlinksWork reports whether this system makes symlinks in dir: Windows
// refuses them without developer mode or administrator rights, and Wine
// reports success and makes nothing.
func symlinksWork(t *testing.T, dir string) bool {
	t.Helper()
	p := filepath.Join(dir, ".symlink-probe")
	defer os.Remove(p)
	if err := os.Symlink("target", p); err != nil {
		if runtime.GOOS == "windows" {
			return false
		}
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	ok := err == nil && fi.Mode()&fs.ModeSymlink != 0
	if !ok && runtime.GOOS != "windows" {
		t.Fatalf("symlink made but not found: %v", err)
	}
	return ok
}

type entry struct {
	mode  fs.FileMode
	size  int64
	mtime int64
	hash  string
	link  string
}

// snapshotTree describes a folder: contents, modes, mtimes, symlinks.
func snapshotTree(t *testing.T, root string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: fi.Mode()}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			e.hash = hex.EncodeToString(h[:])
			e.size = fi.Size()
			e.mtime = fi.ModTime().UnixNano()
		case fi.Mode()&fs.ModeSymlink != 0:
			e.link, _ = os.Readlink(p)
		case fi.IsDir():
			if rel != "." {
				e.mtime = fi.ModTime().UnixNano()
			}
		}
		m[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compareTrees(t *testing.T, want, got map[string]entry) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %q", k)
			bad++
		} else if g != want[k] {
			t.Errorf("%q differs: want %+v got %+v", k, want[k], g)
			bad++
		}
		if bad > 10 {
			t.FailNow()
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra %q", k)
		}
	}
}

// resticCmdNoFail runs restic and returns its error with stderr, or nil.
func resticCmdNoFail(t *testing.T, dir string, args ...string) error {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(testPassword+"\n"), 0o600)
	cmd := exec.Command("restic", append([]string{"-r", dir, "--no-cache", "-q"}, args...)...)
	cmd.Env = append(os.Environ(), "RESTIC_PASSWORD_FILE="+pw)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, errb.String())
	}
	return nil
}

// sameFile reports whether two paths are hard links of one file.
func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(fa, fb)
}
