package fat32

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"travelkit/image"
	"travelkit/image/gpt"
	"travelkit/image/internal/testutil"
)

var kitFiles = map[string][]byte{
	"bin/linux-amd64/travelkit":         bytes.Repeat([]byte("ELF binary "), 300000), // ~3.3 MB
	"bin/windows-amd64/travelkit.exe":   bytes.Repeat([]byte("MZ"), 5000),
	"escrow/colleague-a.age":            []byte("age-encryption.org/v1\n-> X25519 abc\n"),
	"RESTORE.en.txt":                    []byte("Plug in the drive.\n"),
	"RESTORE.fa.html":                   []byte("<html dir=rtl>سلام</html>\n"),
	"manifest.json":                     []byte("{}\n"),
	"SHA256SUMS":                        []byte("abc  RESTORE.en.txt\n"),
	"empty":                             nil,
	"a/b/c/d/deep name with spaces.txt": []byte("deep\n"),
}

func buildKit(t *testing.T, dev image.Device, hidden uint32) Geometry {
	t.Helper()
	w, err := Format(dev, dev.Size(), Options{Label: "TRAVELKIT", HiddenStart: hidden, Time: time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.MkdirAll("escrow"); err != nil {
		t.Fatal(err)
	}
	if err := w.MkdirAll("empty-dir/sub"); err != nil {
		t.Fatal(err)
	}
	for p, b := range kitFiles {
		if err := w.WriteFile(p, bytes.NewReader(b), int64(len(b)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// Many entries in one directory: more than one cluster of directory.
	for i := 0; i < 300; i++ {
		b := []byte(fmt.Sprintf("file %d\n", i))
		if err := w.WriteFile(fmt.Sprintf("many/file-number-%03d.txt", i), bytes.NewReader(b), int64(len(b)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteFile("RESTORE.en.txt", strings.NewReader("x"), 1, time.Time{}); err == nil {
		t.Fatal("duplicate accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Geometry()
}

func TestFormatTools(t *testing.T) {
	dev, path := testutil.SparseFile(t, "fat.img", 256<<20)
	g := buildKit(t, dev, 2048)
	t.Logf("256 MiB: %d clusters of %d bytes, FAT %d sectors", g.Clusters, g.ClusterBytes(), g.FATSectors)
	if g.Clusters < MinClusters {
		t.Fatalf("only %d clusters", g.Clusters)
	}
	out := testutil.MustTool(t, "fsck.vfat", "-n", "-v", path)
	if strings.Contains(out, "differ") || strings.Contains(out, "Fix") || strings.Contains(out, "Free cluster summary wrong") {
		t.Fatalf("fsck.vfat -n complained:\n%s", out)
	}
	if !strings.Contains(out, "FAT32") && !strings.Contains(out, "32-bit") {
		t.Logf("fsck output:\n%s", out)
	}
	lbl := strings.TrimSpace(testutil.MustTool(t, "fatlabel", path))
	if lbl != "TRAVELKIT" {
		t.Fatalf("fatlabel = %q", lbl)
	}
	blk := testutil.MustTool(t, "blkid", "-p", "-o", "export", path)
	if !strings.Contains(blk, "LABEL=TRAVELKIT") || !strings.Contains(blk, "VERSION=FAT32") {
		t.Fatalf("blkid:\n%s", blk)
	}
	ls := testutil.MustTool(t, "mdir", "-i", path, "-/", "-b", "::/")
	for p := range kitFiles {
		if !strings.Contains(ls, "::/"+p) {
			t.Errorf("mdir -/ lacks %s:\n%s", p, ls)
		}
	}
	vol := testutil.MustTool(t, "mdir", "-i", path, "::/")
	if !strings.Contains(vol, "Volume in drive : is TRAVELKIT") {
		t.Errorf("mdir shows no volume label:\n%s", vol)
	}
	for _, p := range []string{"bin/linux-amd64/travelkit", "RESTORE.fa.html", "a/b/c/d/deep name with spaces.txt"} {
		got := testutil.MustTool(t, "mtype", "-i", path, "::/"+p)
		if got != string(kitFiles[p]) {
			t.Errorf("mtype %s: %d bytes, want %d", p, len(got), len(kitFiles[p]))
		}
	}
	if got := testutil.MustTool(t, "mtype", "-i", path, "::/many/file-number-299.txt"); got != "file 299\n" {
		t.Errorf("mtype many/299 = %q", got)
	}
	// Our reader.
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	if f.Label() != "TRAVELKIT" || f.BootLabel() != "TRAVELKIT" {
		t.Fatalf("labels %q %q", f.Label(), f.BootLabel())
	}
	seen := map[string]bool{}
	if err := f.Walk(func(p string, e Entry) error {
		if !e.IsDir {
			seen[p] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for p, want := range kitFiles {
		if !seen[p] {
			t.Errorf("walk lacks %s", p)
		}
		got, err := f.ReadFile(p, 1<<30)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile %s: %v, %d bytes want %d", p, err, len(got), len(want))
		}
	}
	if len(seen) != len(kitFiles)+300 {
		t.Errorf("walk saw %d files", len(seen))
	}
	if _, err := f.ReadFile("nope/x", 1<<20); err == nil {
		t.Error("missing file read")
	}
}

func TestInsideGPT(t *testing.T) {
	size := int64(300 << 20)
	disk, path := testutil.SparseFile(t, "disk.img", size)
	tab, err := gpt.Layout(size, 512, []gpt.Spec{
		{Type: gpt.TypeMicrosoftBasicData, Name: "TRAVELKIT", Size: 100 << 20},
		{Type: gpt.TypeLinuxLUKS, Name: "data"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := gpt.Write(disk, tab); err != nil {
		t.Fatal(err)
	}
	p := tab.Partitions[0]
	part, err := image.NewSection(disk, tab.Offset(p), tab.Length(p))
	if err != nil {
		t.Fatal(err)
	}
	buildKit(t, part, uint32(p.First))
	img := fmt.Sprintf("%s@@%d", path, tab.Offset(p))
	out := testutil.MustTool(t, "mdir", "-i", img, "-b", "::/bin/linux-amd64")
	if !strings.Contains(out, "travelkit") {
		t.Fatalf("mdir at offset:\n%s", out)
	}
	if got := testutil.MustTool(t, "mtype", "-i", img, "::/escrow/colleague-a.age"); got != string(kitFiles["escrow/colleague-a.age"]) {
		t.Fatalf("mtype at offset: %q", got)
	}
	if o := testutil.MustTool(t, "sgdisk", "-v", path); !strings.Contains(o, "No problems found") {
		t.Fatal(o)
	}
}

func TestTooSmall(t *testing.T) {
	_, err := ChooseGeometry(30<<20, 0)
	if err == nil || !strings.Contains(err.Error(), "minimum size is") || !strings.Contains(err.Error(), "65525") {
		t.Fatalf("err = %v", err)
	}
	g, err := ChooseGeometry(MinSize, 0)
	if err != nil || g.Clusters < MinClusters {
		t.Fatalf("MinSize %d: %v %+v", MinSize, err, g)
	}
	if _, err := ChooseGeometry(MinSize-512, 0); err == nil {
		t.Fatal("below MinSize accepted")
	}
	for _, s := range []int64{64 << 20, 256 << 20, 1 << 30, 9 << 30, 40 << 30} {
		g, err := ChooseGeometry(s, 0)
		if err != nil || g.Clusters < MinClusters {
			t.Fatalf("%d: %v %+v", s, err, g)
		}
		// The FAT must cover every cluster.
		if uint64(g.FATSectors)*512/4 < uint64(g.Clusters)+2 {
			t.Fatalf("%d: FAT too small", s)
		}
		t.Logf("%5d MiB: cluster %5d, %d clusters", s>>20, g.ClusterBytes(), g.Clusters)
	}
}

func TestMinSizeFsck(t *testing.T) {
	dev, path := testutil.SparseFile(t, "min.img", MinSize)
	w, err := Format(dev, dev.Size(), Options{Label: "TRAVELKIT"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("x.txt", strings.NewReader("hi"), 2, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	testutil.MustTool(t, "fsck.vfat", "-n", path)
	blk := testutil.MustTool(t, "blkid", "-p", "-o", "export", path)
	if !strings.Contains(blk, "VERSION=FAT32") {
		t.Fatalf("blkid:\n%s", blk)
	}
}

type memDev struct{ b []byte }

func (m *memDev) Size() int64 { return int64(len(m.b)) }
func (m *memDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, os.ErrInvalid
	}
	return copy(p, m.b[off:]), nil
}
func (m *memDev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, os.ErrInvalid
	}
	return copy(m.b[off:], p), nil
}

// FuzzOpen: whatever the bytes, Open, Walk and ReadFile return (no panic, no hang) and
// allocate within a hard bound proportional to the 256 KiB device; anything Open accepts
// has a tree that Walk visits once per entry and Expect/Compare handle.
func FuzzOpen(f *testing.F) {
	const devSize = 256 << 10
	m := &memDev{b: make([]byte, devSize)}
	w, err := Format(m, m.Size(), Options{Label: "FUZZ", allowSmall: true, ClusterSize: 512, Time: strictTime})
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"a/b/long file name.txt", "X.TXT", "dir/y"} {
		if err := w.WriteFile(p, strings.NewReader("hello world"), 11, time.Time{}); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	ds := w.Geometry().dataStart()
	seed := append([]byte(nil), m.b[:ds+8*512]...)
	f.Add(seed)
	// Crafted seeds: a label+directory entry, an entry after the end, a loop.
	for _, patch := range []func(b []byte){
		func(b []byte) { b[ds+5*32+dirAttr] = 0x18 },
		func(b []byte) { copy(b[ds+40*32:], "EVIL    TXT\x20") },
		func(b []byte) { b[reserved*512+4*3] = 3 },
	} {
		c := append([]byte(nil), seed...)
		patch(c)
		f.Add(c)
	}
	exp, err := Expect(devSize, Options{Label: "FUZZ", allowSmall: true, ClusterSize: 512, Time: strictTime},
		[]Spec{{"a/b/long file name.txt", 11}, {"X.TXT", 11}, {"dir/y", 11}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &memDev{b: make([]byte, devSize)}
		copy(d.b, b)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fs, err := Open(d, d.Size())
		if err == nil {
			n := 0
			_ = fs.Walk(func(p string, e Entry) error {
				if n++; n > maxEntries {
					t.Fatalf("walk visits more than %d entries", maxEntries)
				}
				if !e.IsDir {
					_, _ = fs.ReadFile(p, 1<<20)
				}
				return nil
			})
		}
		if _, err := exp.Compare(d); err != nil {
			t.Fatalf("Compare: %v", err)
		}
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 64*devSize {
			t.Fatalf("%d bytes allocated for a %d-byte volume", a, devSize)
		}
	})
}
