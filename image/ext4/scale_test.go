package ext4

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"travelkit/image"
	"travelkit/image/internal/testutil"
)

func allocated(t *testing.T, path string) int64 { return testutil.Allocated(t, path) }

// TestScale: formatting is O(metadata): a 64 GiB volume costs a few MiB of
// writes more than a 1 GiB one, not gigabytes of inode tables and journal.
func TestScale(t *testing.T) {
	payload := randBytes(8<<20, 3)
	var res []string
	for _, size := range []int64{1 << 30, 64 << 30} {
		dev, path := testutil.SparseFile(t, "vol.img", size)
		c := image.NewCounting(dev)
		t0 := time.Now()
		if err := Format(c, FormatOptions{Label: "travelkit"}); err != nil {
			t.Fatal(err)
		}
		tf := time.Since(t0)
		fw := c.BytesWritten()
		f, err := Open(c, Options{Writable: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range []string{"travelkit/manifest.json", "travelkit/SHA256SUMS", "repo/data/00/pack"} {
			b := []byte(fmt.Sprintf("file %d\n", i))
			if i == 2 {
				b = payload
			}
			if err := f.WriteFile(p, bytes.NewReader(b), int64(len(b)), time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		fsck(t, path)
		tk := time.Since(t1)
		line := fmt.Sprintf("%2d GiB: format wrote %.2f MiB (%d writes) in %v; +3 files (8 MiB) total %.2f MiB written; image uses %.2f MiB on disk; e2fsck -fn %v",
			size>>30, float64(fw)/(1<<20), c.Writes(), tf.Round(time.Millisecond), float64(c.BytesWritten())/(1<<20),
			float64(allocated(t, path))/(1<<20), tk.Round(time.Millisecond))
		t.Log(line)
		res = append(res, line)
		if size == 64<<30 && fw > 16<<20 {
			t.Errorf("64 GiB format wrote %d bytes: not O(metadata)", fw)
		}
		if got := debugfs(t, path, "cat /travelkit/manifest.json"); got != "file 0\n" {
			t.Errorf("debugfs cat = %q", got)
		}
		os.Remove(path)
	}
	if dir := os.Getenv("TRAVELKIT_BENCH_OUT"); dir != "" {
		os.WriteFile(filepath.Join(dir, "ext4-scale.txt"), []byte(strings.Join(res, "\n")+"\n"), 0o644)
	}
}

// TestFragmentedFile: a file in more than 4 extents gets a depth-1 extent tree.
func TestFragmentedFile(t *testing.T) {
	dev, path := testutil.SparseFile(t, "vol.img", 256<<20)
	if err := Format(dev, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	one := bytes.Repeat([]byte{1}, 4096)
	for i := 0; i < 40; i++ {
		if err := f.WriteFile(fmt.Sprintf("s/%d", i), bytes.NewReader(one), 4096, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 40; i += 2 { // emptying frees one-block holes
		if err := f.WriteFile(fmt.Sprintf("s/%d", i), bytes.NewReader(nil), 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	f.lastGroup = 0
	big := randBytes(1<<20, 9)
	if err := f.WriteFile("big", bytes.NewReader(big), int64(len(big)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	st := debugfs(t, path, "stat /big")
	if !strings.Contains(st, "(ETB0)") && !strings.Contains(st, "ETB") {
		t.Fatalf("no extent tree block:\n%s", st)
	}
	r, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadFile("big")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big: %v", err)
	}
	testutil.MustTool(t, "debugfs", "-R", "dump /big "+path+".big", path)
	if b, _ := os.ReadFile(path + ".big"); !bytes.Equal(b, big) {
		t.Fatal("debugfs dump differs")
	}
}

// TestReadMke2fs: our reader on volumes made by mke2fs and filled by debugfs
// (metadata_csum, 64bit, hashed directories).
func TestReadMke2fs(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "m.img")
	mke2fs(t, img, "256M", "-L", "made-by-mke2fs")
	big := randBytes(20<<20+17, 11)
	bigPath := filepath.Join(dir, "big")
	os.WriteFile(bigPath, big, 0o600)
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("small file\n"), 0o600)
	cmds := []string{"mkdir a", "mkdir a/b", "mkdir a/b/c", "write " + bigPath + " a/b/c/big", "write " + small + " top.txt", "mkdir many"}
	for i := 0; i < 400; i++ {
		cmds = append(cmds, fmt.Sprintf("write %s many/entry-with-a-long-name-%04d", small, i))
	}
	debugfsW(t, img, cmds...)
	// e2fsck -D rebuilds directories with hash indexes.
	if out, err := testutil.Tool(t, "e2fsck", "-fyD", img); err != nil && !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("e2fsck -fyD: %v\n%s", err, out)
	}
	fsck(t, img)
	if st := debugfs(t, img, "stat /many"); !strings.Contains(st, "Flags: 0x81000") {
		t.Fatalf("/many is not hashed:\n%s", st)
	}
	f, err := Open(openFile(t, img, false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Label() != "made-by-mke2fs" {
		t.Errorf("label %q", f.Label())
	}
	got, err := f.ReadFile("a/b/c/big")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big: %v (%d bytes)", err, len(got))
	}
	if b, err := f.ReadFile("top.txt"); err != nil || string(b) != "small file\n" {
		t.Fatalf("top.txt %q %v", b, err)
	}
	ents, err := f.ReadDir("many")
	if err != nil || len(ents) != 400 {
		t.Fatalf("many: %v %d", err, len(ents))
	}
	root, err := f.ReadDir("")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range root {
		names[e.Name] = e.IsDir()
	}
	if !names["a"] || !names["many"] || !names["lost+found"] {
		t.Fatalf("root: %v", names)
	}
	if _, err := Open(openFile(t, img, true), Options{Writable: true}); err == nil {
		t.Fatal("writable open of metadata_csum volume accepted")
	}
}

// TestWriteIntoMke2fs: travelkit writes into a volume mke2fs made with the
// features it supports (uninitialised block groups included).
func TestWriteIntoMke2fs(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "m.img")
	mke2fs(t, img, "300M", "-O", "^metadata_csum,^64bit,^resize_inode,^dir_index,uninit_bg,^orphan_file,^metadata_csum_seed")
	f, err := Open(openFile(t, img, true), Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	big := randBytes(200<<20/100, 4)
	for _, p := range []string{"x/y/z.bin", "w.bin"} {
		if err := f.WriteFile(p, bytes.NewReader(big), int64(len(big)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, img)
	testutil.MustTool(t, "debugfs", "-R", "dump /x/y/z.bin "+img+".out", img)
	if b, _ := os.ReadFile(img + ".out"); !bytes.Equal(b, big) {
		t.Fatal("debugfs dump differs")
	}
}

// TestReadSmallBlocks: volumes with 1 KiB and 2 KiB blocks (mke2fs's choice
// for small filesystems) read right, journal replay included.
func TestReadSmallBlocks(t *testing.T) {
	for _, bs := range []string{"1024", "2048"} {
		dir := t.TempDir()
		img := filepath.Join(dir, "s.img")
		testutil.MustTool(t, "mke2fs", "-q", "-F", "-t", "ext4", "-b", bs, img, "32M")
		data := randBytes(700<<10, 12)
		src := filepath.Join(dir, "src")
		os.WriteFile(src, data, 0o600)
		debugfsW(t, img, "mkdir a", "write "+src+" a/f")
		newer := filepath.Join(dir, "n.img")
		copyFile(t, img, newer)
		debugfsW(t, newer, "write "+src+" a/g")
		a, _ := os.ReadFile(img)
		b, _ := os.ReadFile(newer)
		var blocks []string
		var jdata []byte
		n := 0
		fmt.Sscan(bs, &n)
		for off := 0; off < len(a); off += n {
			if !bytes.Equal(a[off:off+n], b[off:off+n]) {
				blocks = append(blocks, fmt.Sprint(off/n))
				jdata = append(jdata, b[off:off+n]...)
			}
		}
		os.WriteFile(img+".j", jdata, 0o600)
		debugfsW(t, img, "jo", "jw -b "+strings.Join(blocks, ",")+" "+img+".j", "jc")
		f, err := Open(openFile(t, img, false), Options{})
		if err != nil {
			t.Fatalf("%s: %v", bs, err)
		}
		for _, p := range []string{"a/f", "a/g"} {
			got, err := f.ReadFile(p)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s-byte blocks, %s: %v", bs, p, err)
			}
		}
	}
}
