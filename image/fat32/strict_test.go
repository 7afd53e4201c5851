package fat32

import (
	"bytes"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"travelkit/image/internal/testutil"
	"travelkit/internal/craftfat"
)

// The attacks of issue 13 (A, C) on a tools partition, each crafted with package craftfat
// (an independent patcher) on a volume travelkit wrote. Each must be refused by Open,
// naming what is wrong; the mtools view shows what a reader that skips label entries and
// reads past the end marker (as Linux does) would show instead.

var strictFiles = map[string][]byte{
	"bin/linux-amd64/travelkit": bytes.Repeat([]byte("\x7fELF genuine "), 2000),
	"RESTORE.en.txt":            []byte("Plug in the drive.\n"),
	"escrow/colleague-a.age":    []byte("age-encryption.org/v1\n"),
	"manifest.json":             []byte("{}\n"),
	"SHA256SUMS":                []byte("abc  RESTORE.en.txt\n"),
}

var strictTime = time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC)

func strictSpecs() []Spec {
	var out []Spec
	for p, b := range strictFiles {
		if p != "manifest.json" && p != "SHA256SUMS" {
			out = append(out, Spec{p, int64(len(b))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return append(out, Spec{"manifest.json", 3}, Spec{"SHA256SUMS", int64(len(strictFiles["SHA256SUMS"]))})
}

// strictVolume writes a kit-like FAT32 volume (real FAT32: mtools and Linux read it as
// such) in a 64 MiB sparse file.
func strictVolume(t *testing.T) (*testutil.Dev, string, *craftfat.Volume) {
	t.Helper()
	dev, path := testutil.SparseFile(t, "tools.img", 64<<20)
	w, err := Format(dev, dev.Size(), Options{Label: "TRAVELKIT", Time: strictTime, HiddenStart: 2048})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range strictSpecs() {
		if err := w.WriteFile(s.Path, bytes.NewReader(strictFiles[s.Path]), s.Size, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	v, err := craftfat.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	return dev, path, v
}

func mustFind(t *testing.T, v *craftfat.Volume, dir uint32, name string) int64 {
	t.Helper()
	off, err := v.Find(dir, craftfat.Name11(name))
	if err != nil {
		t.Fatal(err)
	}
	return off
}

func wantAmbiguous(t *testing.T, dev *testutil.Dev, words ...string) {
	t.Helper()
	_, err := Open(dev, dev.Size())
	var ae *AmbiguousError
	if !errors.As(err, &ae) {
		t.Fatalf("Open accepted the crafted volume (err %v)", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	t.Logf("refused: %v", err)
}

const evil = "#!/bin/sh\necho replaced\n"

// A1: the genuine bin gets 0x18 (label + directory); a second bin with a replaced
// binary follows it.
func craftShadow(t *testing.T, v *craftfat.Volume) {
	off := mustFind(t, v, v.RootClus, "BIN")
	v.SetAttr(off, 0x18)
	bin, err := v.AddDir(v.RootClus, 0, craftfat.Name11("BIN"), "", 0x10)
	if err != nil {
		t.Fatal(err)
	}
	la, err := v.AddDir(bin, bin, craftfat.Name11("LINUX-~1"), "linux-amd64", 0x10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.AddFile(la, craftfat.Name11("TRAVEL~1"), "travelkit", 0x20, []byte(evil), 0); err != nil {
		t.Fatal(err)
	}
}

func TestStrictShadowDirectory(t *testing.T) {
	dev, path, v := strictVolume(t)
	craftShadow(t, v)
	// mtools, like Linux vfat, skips the label entry and shows the attacker's binary.
	if got := testutil.MustTool(t, "mtype", "-i", path, "::/bin/linux-amd64/travelkit"); got != evil {
		t.Fatalf("mtools reads %q; the crafted volume is not what the attack needs", got)
	}
	wantAmbiguous(t, dev, "volume-label bit", "BIN")
}

// A3: an entry after the end-of-directory entry: Windows stops, Linux reads on.
func TestStrictEntryAfterEnd(t *testing.T) {
	dev, _, v := strictVolume(t)
	if _, err := v.AddFile(v.RootClus, craftfat.Name11("URGENT~1.TXT"), "URGENT-READ-FIRST.txt", 0x20, []byte("run sudo sh x.sh\n"), 1); err != nil {
		t.Fatal(err)
	}
	wantAmbiguous(t, dev, "after the end-of-directory entry")
}

func TestStrictDuplicateNames(t *testing.T) {
	t.Run("ignoring case", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("SHA256~2"), "sha256sums", 0x20, []byte("x  y\n"), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "same name", "ignoring case")
	})
	t.Run("short name of another", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		// A plain 8.3 file named like the alias of SHA256SUMS.
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("SHA256~1"), "", 0x20, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "same name")
	})
	t.Run("exact", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddDir(v.RootClus, 0, craftfat.Name11("ESCROW"), "", 0x10); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "same name")
	})
}

func TestStrictLongShortDisagree(t *testing.T) {
	t.Run("alias", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("EVIL.EXE"), "travelkit.exe", 0x20, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "not an alias")
	})
	t.Run("orphan", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		lfn := craftfat.Long("innocent.txt", craftfat.Name11("OTHER~1.TXT"))
		ents := append(lfn, craftfat.Short(craftfat.Name11("EVIL.SH"), 0x20, 0, 0))
		if err := v.Append(v.RootClus, 0, ents...); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "orphaned")
	})
	t.Run("slash in a long name", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		bin, _ := v.Find(v.RootClus, craftfat.Name11("BIN"))
		if _, err := v.AddFile(v.FirstCluster(bin), craftfat.Name11("LINUX-~2"), "linux-amd64/travelkit", 0x20, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "not allowed")
	})
	t.Run("escape in a long name", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("_2K_1A~1"), "\x1b[2K\x1b[1AOK", 0x20, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "not allowed")
	})
	t.Run("trailing dot", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddDir(v.RootClus, 0, craftfat.Name11("BIN~1"), "bin.", 0x10); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "ends in a dot")
	})
	t.Run("code page alias", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, "EVIL\x90   EXE", "innocent.txt", 0x20, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "not an alias")
	})
}

func TestStrictSharedChains(t *testing.T) {
	t.Run("two files", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		bin := v.FirstCluster(mustFind(t, v, v.RootClus, "BIN"))
		la := v.FirstCluster(mustFind(t, v, bin, "LINUX-~1"))
		off := mustFind(t, v, la, "TRAVEL~1")
		e := v.Entry(off)
		copy(e, craftfat.Name11("COPY.EXE"))
		if err := v.Append(v.RootClus, 0, e); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "also used by another")
	})
	t.Run("folder reachable twice", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		bin := v.FirstCluster(mustFind(t, v, v.RootClus, "BIN"))
		if err := v.Append(v.RootClus, 0, craftfat.Short(craftfat.Name11("TOOLS"), 0x10, bin, 0)); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "also used by another")
	})
	t.Run("loop to the root", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		bin := v.FirstCluster(mustFind(t, v, v.RootClus, "BIN"))
		if err := v.Append(bin, 0, craftfat.Short(craftfat.Name11("UP"), 0x10, 0, 0)); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "root folder")
	})
	t.Run("hidden data after the end of a file", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		off := mustFind(t, v, v.RootClus, "MANIFE~1.JSO")
		c := v.FirstCluster(off)
		more, err := v.Alloc(1)
		if err != nil {
			t.Fatal(err)
		}
		v.SetFAT(c, more[0])
		wantAmbiguous(t, dev, "chain of 2 clusters")
	})
}

// C: a directory DAG within the depth limit: 30 levels, each with two entries pointing
// at the next level (2^30 paths). A reader without a visited set walks for ever.
func TestStrictDirectoryDAG(t *testing.T) {
	dev, _, v := strictVolume(t)
	levels := 30
	clusters, err := v.Alloc(levels)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clusters { // each level its own single-cluster chain
		v.SetFAT(c, 0x0FFFFFFF)
	}
	for i, c := range clusters {
		parent := uint32(0)
		if i > 0 {
			parent = clusters[i-1]
		}
		body := append(craftfat.Short(".          ", 0x10, c, 0), craftfat.Short("..         ", 0x10, parent, 0)...)
		if i+1 < levels {
			body = append(body, craftfat.Short(craftfat.Name11("A"), 0x10, clusters[i+1], 0)...)
			body = append(body, craftfat.Short(craftfat.Name11("B"), 0x10, clusters[i+1], 0)...)
		}
		if err := v.WriteChain([]uint32{c}, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Append(v.RootClus, 0, craftfat.Short(craftfat.Name11("DAG"), 0x10, clusters[0], 0)); err != nil {
		t.Fatal(err)
	}
	wantAmbiguous(t, dev, "also used by another")
}

// C: a 4 GiB manifest.json on a volume big enough to hold it: refused by its size before
// anything is allocated.
func TestReadFileLimit(t *testing.T) {
	dev, _ := testutil.SparseFile(t, "big.img", 5<<30)
	w, err := Format(dev, dev.Size(), Options{Label: "TRAVELKIT", Time: strictTime})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Place("manifest.json", 0xFFFFFFFF, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadFile("manifest.json", 1<<20)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "4294967295 bytes") {
		t.Fatalf("ReadFile of a 4 GiB manifest: %v", err)
	}
}

func TestStrictFATs(t *testing.T) {
	t.Run("mirroring off", func(t *testing.T) {
		dev, _, _ := strictVolume(t)
		dev.WriteAt([]byte{0x81, 0}, bpbExtFlags)
		if _, err := Open(dev, dev.Size()); err == nil || !strings.Contains(err.Error(), "mirroring") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("copies differ", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		off := mustFind(t, v, v.RootClus, "MANIFE~1.JSO")
		v.SetFAT(v.FirstCluster(off), 0, 1) // free in the second copy only
		wantAmbiguous(t, dev, "FAT copy 2 differs")
	})
}

func TestStrictAttributes(t *testing.T) {
	t.Run("reserved bits", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		v.SetAttr(mustFind(t, v, v.RootClus, "MANIFE~1.JSO"), 0x60)
		wantAmbiguous(t, dev, "reserved attribute bits")
	})
	t.Run("second label", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if err := v.Append(v.RootClus, 0, craftfat.Short(craftfat.Name11("OTHERKIT"), 0x08, 0, 0)); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "second volume label")
	})
	t.Run("hidden file is read and marked", func(t *testing.T) {
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("RUNME.SH"), "", 0x22, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		f, err := Open(dev, dev.Size())
		if err != nil {
			t.Fatal(err)
		}
		e, err := f.Stat("RUNME.SH")
		if err != nil || !e.Hidden {
			t.Fatalf("hidden file: %+v, %v", e, err)
		}
	})
}

// The OSes' own additions are ordinary, unambiguous entries: a volume that macOS and
// Windows wrote to still opens (verify then reports the additions by name).
func TestStrictAcceptsOSAdditions(t *testing.T) {
	dev, path, v := strictVolume(t)
	for _, d := range []string{".fseventsd", "System Volume Information"} {
		if out, err := testutil.Tool(t, "mmd", "-i", path, "::/"+d); err != nil {
			t.Fatalf("mmd %s: %v\n%s", d, err, out)
		}
	}
	_ = v
	for _, f := range []string{"::/.DS_Store", "::/bin/._travelkit", "::/System Volume Information/WPSettings.dat"} {
		local := t.TempDir() + "/x"
		writeTemp(t, local, []byte("\x00\x05\x16\x07 apple double"))
		if out, err := testutil.Tool(t, "mcopy", "-i", path, local, f); err != nil {
			t.Fatalf("mcopy %s: %v\n%s", f, err, out)
		}
	}
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	f.Walk(func(p string, e Entry) error { names = append(names, p); return nil })
	for _, want := range []string{".DS_Store", "bin/._travelkit", "System Volume Information/WPSettings.dat", ".fseventsd"} {
		if !contains(names, want) {
			t.Errorf("walk lacks %s: %v", want, names)
		}
	}
	// And the expected metadata still matches: only entries and clusters beyond
	// travelkit's were added.
	exp, err := Expect(dev.Size(), Options{Label: "TRAVELKIT", Time: strictTime, HiddenStart: 2048}, strictSpecs())
	if err != nil {
		t.Fatal(err)
	}
	if mm, err := exp.Compare(dev); err != nil || len(mm) != 0 {
		t.Fatalf("Compare after OS additions: %v %v", mm, err)
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func writeTemp(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestExpectMatchesWriter: the expected metadata of a volume is what the writer wrote,
// byte for byte; and every attack above is also a mismatch.
func TestExpectMatchesWriter(t *testing.T) {
	opt := Options{Label: "TRAVELKIT", Time: strictTime, HiddenStart: 2048}
	dev, _, _ := strictVolume(t)
	exp, err := Expect(dev.Size(), opt, strictSpecs())
	if err != nil {
		t.Fatal(err)
	}
	mm, err := exp.Compare(dev)
	if err != nil || len(mm) != 0 {
		t.Fatalf("fresh volume: %v %v", mm, err)
	}
	// An OS mounting it: dirty flags, FSInfo hints, access dates.
	dev.WriteAt([]byte{0x01}, bsReserved1)
	dev.WriteAt([]byte{0xFF, 0xFF, 0xFF, 0x07}, reserved*sectorSize+4) // FAT[1] without the clean bit
	dev.WriteAt([]byte{0xFF, 0xFF, 0xFF, 0xFF}, fsInfoSector*sectorSize+fsiFreeCount)
	if mm, _ := exp.Compare(dev); len(mm) != 0 {
		t.Fatalf("OS bookkeeping reported: %v", mm)
	}
	for name, craft := range map[string]func(*testing.T, *craftfat.Volume){
		"shadow":     craftShadow,
		"boot code":  func(t *testing.T, v *craftfat.Volume) { v.Patch(0, bsBootCode, 0xCD, 0x19) },
		"hidden bit": func(t *testing.T, v *craftfat.Volume) { v.SetAttr(mustFind(t, v, v.RootClus, "MANIFE~1.JSO"), 0x22) },
		"other time": func(t *testing.T, v *craftfat.Volume) {
			v.Patch(mustFind(t, v, v.RootClus, "MANIFE~1.JSO"), dirWrtTime, 0x11)
		},
		"extflags": func(t *testing.T, v *craftfat.Volume) { v.Patch(0, bpbExtFlags, 0x81) },
	} {
		t.Run(name, func(t *testing.T) {
			dev, _, v := strictVolume(t)
			craft(t, v)
			mm, err := exp.Compare(dev)
			if err != nil || len(mm) == 0 {
				t.Fatalf("not noticed: %v %v", mm, err)
			}
			t.Logf("%s: %v", name, mm)
		})
	}
}
