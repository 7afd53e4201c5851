package beneath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The portable part, run on every system (under Wine for Windows): folders, files, hard
// links, metadata on handles, and refusals of names that are not one component.
func TestCreateBeneath(t *testing.T) {
	target := filepath.Join(t.TempDir(), "to", "deeper")
	d, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := d.Mkdir("sub")
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.Mkdir("sub") // an existing folder is opened
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	f, err := sub.Create("f.txt", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("content"), 0); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := sub.SetFileMeta(f, "f.txt", Meta{Mode: 0o640, Atime: mt, Mtime: mt}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := sub.Create("f.txt", false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over an existing file: %v", err)
	}
	if err := d.Link(sub, "f.txt", "hard.txt"); err != nil {
		t.Fatal(err)
	}
	if err := sub.SetMeta(d, "sub", Meta{Mode: 0o750, Atime: mt, Mtime: mt}); err != nil {
		t.Fatal(err)
	}
	sp, err := d.Space()
	if err != nil || sp.Bytes == 0 {
		t.Errorf("space: %+v %v", sp, err)
	}
	sub.Close()
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if _, err := d.Mkdir(bad); err == nil {
			t.Errorf("Mkdir(%q) accepted", bad)
		}
	}
	d.Close()

	b, err := os.ReadFile(filepath.Join(target, "hard.txt"))
	if err != nil || string(b) != "content" {
		t.Errorf("hard link: %q %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(target, "sub", "f.txt"))
	if err != nil || !fi.ModTime().Equal(mt) {
		t.Errorf("file times: %v %v", fi.ModTime(), err)
	}
	fi, err = os.Stat(filepath.Join(target, "sub"))
	if err != nil || !fi.ModTime().Equal(mt) || !fi.IsDir() {
		t.Errorf("folder times: %v %v", fi.ModTime(), err)
	}
	// the user's own existing target opens again
	d, err = Open(target)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}
