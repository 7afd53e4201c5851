package fat32

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
)

// TestShred: a file shredded in place is gone for fsck.vfat, mtools and the reader, its
// bytes are nowhere on the partition, and every other file is intact.
func TestShred(t *testing.T) {
	dev, path := testutil.SparseFile(t, "fat.img", 64<<20)
	marker := bytes.Repeat([]byte("SECRET-HEADER-BACKUP "), 40000) // ~840 KB, many clusters
	w, err := Format(dev, dev.Size(), Options{Label: "TRAVELKIT", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"luks-header.age":        marker,
		"escrow/luks-header.age": marker[:5000],
		"escrow/ana.age":         []byte("age escrow for ana\n"),
		"manifest.json":          []byte("{}\n"),
		"zero-length":            nil,
	}
	for _, p := range []string{"escrow/ana.age", "luks-header.age", "escrow/luks-header.age", "manifest.json", "zero-length"} {
		if err := w.WriteFile(p, bytes.NewReader(files[p]), int64(len(files[p])), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"luks-header.age", "escrow/luks-header.age", "zero-length"} {
		if err := Shred(dev, dev.Size(), p); err != nil {
			t.Fatalf("Shred %s: %v", p, err)
		}
	}
	if err := Shred(dev, dev.Size(), "luks-header.age"); !errors.Is(err, ErrNoFile) {
		t.Fatalf("shredding twice: %v", err)
	}
	img, _ := os.ReadFile(path)
	if bytes.Contains(img, []byte("SECRET-HEADER")) {
		t.Fatal("the shredded content is still on the partition")
	}
	out := testutil.MustTool(t, "fsck.vfat", "-n", "-v", path)
	if strings.Contains(out, "differ") || strings.Contains(out, "Fix") || strings.Contains(out, "Free cluster summary wrong") || strings.Contains(out, "Reclaim") {
		t.Fatalf("fsck.vfat -n complained:\n%s", out)
	}
	ls := testutil.MustTool(t, "mdir", "-i", path, "-/", "-b", "::/")
	if strings.Contains(ls, "luks-header") || strings.Contains(ls, "zero-length") {
		t.Fatalf("mdir still lists a shredded file:\n%s", ls)
	}
	if got := testutil.MustTool(t, "mtype", "-i", path, "::/escrow/ana.age"); got != string(files["escrow/ana.age"]) {
		t.Fatalf("escrow/ana.age: %q", got)
	}
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat("escrow/luks-header.age"); err == nil {
		t.Fatal("the reader still sees a shredded file")
	}
	if b, err := f.ReadFile("manifest.json", 1<<20); err != nil || string(b) != "{}\n" {
		t.Fatalf("manifest.json: %q %v", b, err)
	}
}

// TestShredHead: only the head is overwritten, yet the file is gone and the filesystem clean.
func TestShredHead(t *testing.T) {
	dev, path := testutil.SparseFile(t, "fat.img", 64<<20)
	w, err := Format(dev, dev.Size(), Options{Label: "TRAVELKIT", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte("AGE-HEADER-WITH-THE-FILE-KEY\n"), bytes.Repeat([]byte("ciphertext "), 100000)...)
	if err := w.WriteFile("luks-header.age", bytes.NewReader(b), int64(len(b)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ShredHead(dev, dev.Size(), "luks-header.age", 64<<10); err != nil {
		t.Fatal(err)
	}
	img, _ := os.ReadFile(path)
	if bytes.Contains(img, []byte("AGE-HEADER-WITH")) {
		t.Fatal("the head survived")
	}
	out := testutil.MustTool(t, "fsck.vfat", "-n", "-v", path)
	if strings.Contains(out, "Free cluster summary wrong") || strings.Contains(out, "Reclaim") || strings.Contains(out, "Fix") {
		t.Fatalf("fsck.vfat -n complained:\n%s", out)
	}
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat("luks-header.age"); err == nil {
		t.Fatal("the file is still there")
	}
}
