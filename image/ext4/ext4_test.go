package ext4

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"travelkit/image"
	"travelkit/image/internal/testutil"
)

func fsck(t *testing.T, path string) {
	t.Helper()
	out, err := testutil.Tool(t, "e2fsck", "-fn", path)
	if err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, out)
	}
}

func debugfs(t *testing.T, path, cmd string) string {
	t.Helper()
	out := testutil.MustTool(t, "debugfs", "-R", cmd, path)
	// Drop the version banner (stderr, merged).
	if strings.HasPrefix(out, "debugfs ") {
		if i := strings.IndexByte(out, '\n'); i >= 0 {
			out = out[i+1:]
		}
	}
	return out
}

func randBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func TestFormatFsck(t *testing.T) {
	dev, path := testutil.SparseFile(t, "vol.img", 1<<30)
	c := image.NewCounting(dev)
	start := time.Now()
	if err := Format(c, FormatOptions{Label: "travelkit"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("1 GiB: format wrote %d bytes in %d writes, %v", c.BytesWritten(), c.Writes(), time.Since(start))
	fsck(t, path)
	out := testutil.MustTool(t, "dumpe2fs", "-h", path)
	for _, want := range []string{"has_journal", "extent", "flex_bg", "uninit_bg", "Filesystem volume name:   travelkit", "clean"} {
		if !strings.Contains(out, want) {
			t.Errorf("dumpe2fs lacks %q:\n%s", want, out)
		}
	}
	ls := debugfs(t, path, "ls -l /")
	if !strings.Contains(ls, "lost+found") {
		t.Errorf("debugfs ls /:\n%s", ls)
	}
}

// aligned fails writes that are not whole, aligned 4 KiB sectors (what a
// LUKS2 volume with sector_size 4096 handles best).
type aligned struct{ Device }

func (a aligned) WriteAt(p []byte, off int64) (int, error) {
	if off%4096 != 0 || len(p)%4096 != 0 {
		return 0, fmt.Errorf("unaligned write of %d bytes at %d", len(p), off)
	}
	return a.Device.WriteAt(p, off)
}

func TestWriteReadInterop(t *testing.T) {
	fdev, path := testutil.SparseFile(t, "vol.img", 512<<20)
	dev := aligned{fdev}
	if err := Format(dev, FormatOptions{Label: "kit"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"travelkit/manifest.json":   []byte(`{"kit":"amina"}` + "\n"),
		"travelkit/SHA256SUMS":      []byte("abc  x\n"),
		"repo/config":               randBytes(155, 1),
		"repo/data/ab/abcdef012345": randBytes(7<<20+123, 2), // several MiB, not block aligned
		"notes/deep/er/still/a.txt": []byte("hello\n"),
		"empty":                     nil,
	}
	for p, b := range files {
		if err := f.WriteFile(p, bytes.NewReader(b), int64(len(b)), time.Time{}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	// Many entries: the directory grows past one block.
	for i := 0; i < 200; i++ {
		b := []byte(fmt.Sprintf("entry %d\n", i))
		if err := f.WriteFile(fmt.Sprintf("many/a-rather-long-file-name-number-%03d.txt", i), bytes.NewReader(b), int64(len(b)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.MkdirAll("repo/keys"); err != nil {
		t.Fatal(err)
	}
	// Replace a file.
	nb := []byte("replaced\n")
	if err := f.WriteFile("repo/config", bytes.NewReader(nb), int64(len(nb)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	files["repo/config"] = nb
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	// debugfs reads what we wrote.
	for p, b := range files {
		if len(b) > 1<<20 {
			out := debugfs(t, path, "dump /"+p+" "+path+".dump")
			_ = out
			got, err := os.ReadFile(path + ".dump")
			if err != nil || sha256.Sum256(got) != sha256.Sum256(b) {
				t.Errorf("debugfs dump %s differs (%d bytes)", p, len(got))
			}
			continue
		}
		got := debugfs(t, path, "cat /"+p)
		if !strings.HasSuffix(got, string(b)) {
			t.Errorf("debugfs cat %s = %q", p, got)
		}
	}
	ls := debugfs(t, path, "ls -l /many")
	if !strings.Contains(ls, "a-rather-long-file-name-number-199.txt") {
		t.Errorf("ls /many:\n%s", ls)
	}
	// Our reader, reopened.
	r, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		got, err := r.ReadFile(p)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("ReadFile %s: %v (%d bytes, want %d)", p, err, len(got), len(b))
		}
	}
	ents, err := r.ReadDir("many")
	if err != nil || len(ents) != 200 {
		t.Fatalf("ReadDir many: %v, %d", err, len(ents))
	}
	st, err := r.Stat("repo/data/ab/abcdef012345")
	if err != nil || st.Size != 7<<20+123 || st.IsDir() {
		t.Fatalf("Stat: %+v %v", st, err)
	}
	if st, err := r.Stat("repo/keys"); err != nil || !st.IsDir() {
		t.Fatalf("Stat dir: %+v %v", st, err)
	}
	if _, err := r.Stat("nope"); err == nil {
		t.Fatal("Stat of missing file")
	}
	if err := r.WriteFile("x", strings.NewReader(""), 0, time.Time{}); err == nil {
		t.Fatal("read-only FS wrote")
	}
}

// newVolume formats a sparse image of size bytes with fo and opens it for writing: the
// filesystem, its device and the image's path (for e2fsck and debugfs).
func newVolume(t *testing.T, size int64, fo FormatOptions) (*FS, *testutil.Dev, string) {
	t.Helper()
	dev, path := testutil.SparseFile(t, "vol.img", size)
	if err := Format(dev, fo); err != nil {
		t.Fatal(err)
	}
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	return f, dev, path
}
