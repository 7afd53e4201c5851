package fat32

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"travelkit/image/internal/testutil"
	"travelkit/internal/craftfat"

	"golang.org/x/text/unicode/norm"
)

// mcopyUTF8 copies a file with a non-ASCII name onto the volume the way a user with
// mtools does (its default code page, 850, for short names).
func mcopyUTF8(t *testing.T, img, name string) {
	t.Helper()
	local := filepath.Join(t.TempDir(), name)
	writeTemp(t, local, []byte("a user's file\n"))
	if _, err := exec.LookPath("mcopy"); err != nil {
		t.Fatalf("mcopy not installed (scripts/install-test-deps.sh): %v", err)
	}
	cmd := exec.Command("mcopy", "-i", img, local, "::/")
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mcopy %s: %v\n%s", name, err, out)
	}
}

// A user's own file with a non-ASCII name is not ambiguous: every OS reads the same
// entry and bytes, only the code page it shows the short name in differs. The tools
// partition stays readable (and verify reports the file as extra).
func TestCodePageNamesOfUsers(t *testing.T) {
	dev, img, _ := strictVolume(t)
	// mtools stores café.txt as the short name CAF\x90.TXT with the lower-case flags
	// and no long name; résumé-long-name.pdf gets the alias R\x90SUM\x90~1.PDF.
	mcopyUTF8(t, img, "café.txt")
	mcopyUTF8(t, img, "résumé-long-name.pdf")
	raw := testutil.MustTool(t, "mdir", "-i", img, "::/")
	t.Logf("mdir:\n%s", raw)
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatalf("a user's café.txt made the volume unreadable: %v", err)
	}
	var names []string
	f.Walk(func(p string, e Entry) error { names = append(names, p); return nil })
	for _, want := range []string{"café.txt", "résumé-long-name.pdf"} {
		if !contains(names, want) {
			t.Errorf("walk lacks %q: %q", want, names)
		}
	}
	e, err := f.Stat("café.txt")
	if err != nil || e.Short != "CAF\x90    TXT" {
		t.Fatalf("Stat café.txt: %+v %v (the crafted volume is not what mtools writes any more?)", e, err)
	}
	b, err := f.ReadFile("café.txt", 100)
	if err != nil || string(b) != "a user's file\n" {
		t.Fatalf("ReadFile: %q %v", b, err)
	}
	exp, err := Expect(dev.Size(), Options{Label: "TRAVELKIT", Time: strictTime, HiddenStart: 2048}, strictSpecs())
	if err != nil {
		t.Fatal(err)
	}
	if mm, err := exp.Compare(dev); err != nil || len(mm) != 0 {
		t.Fatalf("Compare after a user's files: %v %v", mm, err)
	}
}

// Two entries that some code page shows with one name are refused like any duplicate.
func TestCodePageNamesAmbiguous(t *testing.T) {
	t.Run("long name", func(t *testing.T) {
		// Windows (code page 437 or 850) shows CAF\x90.TXT as "café.txt": the same
		// name as the long name Café.txt, ignoring case.
		dev, img, v := strictVolume(t)
		mcopyUTF8(t, img, "café.txt")
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("CAF_~1.TXT"), "Café.txt", 0x20, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "same name as", "café.txt")
	})
	t.Run("long name in another code page", func(t *testing.T) {
		// 0x9B is "ø" in code page 850 (mtools, Western Europe) and "¢" in 437: shown
		// as "SøREN.TXT" it is the long name Søren.txt ignoring case.
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("S_REN~1.TXT"), "Søren.txt", 0x20, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := v.AddFile(v.RootClus, "S\x9bREN   TXT", "", 0x20, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "code page", "Søren.txt")
	})
	t.Run("dotless i", func(t *testing.T) {
		// 0xD5 is "ı" in code page 850: "BıN", which Windows' upcase table makes "BIN".
		dev, _, v := strictVolume(t)
		if _, err := v.AddDir(v.RootClus, 0, "B\xd5N        ", "", 0x10); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "code page", "bin")
	})
	t.Run("two code-page names", func(t *testing.T) {
		// 0x9B and 0x9D are "ø" and "Ø" in code page 850 ("¢" and "¥" in 437).
		dev, _, v := strictVolume(t)
		for _, n := range []string{"\x9b       TXT", "\x9d       TXT"} {
			if _, err := v.AddFile(v.RootClus, n, "", 0x20, []byte("x"), 0); err != nil {
				t.Fatal(err)
			}
		}
		wantAmbiguous(t, dev, "code page")
	})
	t.Run("double-byte", func(t *testing.T) {
		// 0x83 0x41 is "ア" in code page 932 (Japanese Windows): the long name ア.txt.
		dev, _, v := strictVolume(t)
		if _, err := v.AddFile(v.RootClus, craftfat.Name11("_~1.TXT"), "ア.txt", 0x20, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := v.AddFile(v.RootClus, "\x83A      TXT", "", 0x20, []byte(evil), 0); err != nil {
			t.Fatal(err)
		}
		wantAmbiguous(t, dev, "code page", "ア.txt")
	})
}

// macOS normalises long names: a precomposed é and e + combining acute are one name.
func TestStrictNormalisation(t *testing.T) {
	dev, _, v := strictVolume(t)
	if _, err := v.AddFile(v.RootClus, craftfat.Name11("CAF_~1.TXT"), "caf\u00e9.txt", 0x20, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.AddFile(v.RootClus, craftfat.Name11("CAFE_~1.TXT"), "cafe\u0301.txt", 0x20, []byte(evil), 0); err != nil {
		t.Fatal(err)
	}
	wantAmbiguous(t, dev, "same name as", "normalisation")
}

// FuzzCodePageNames: the name checks take any bytes without panicking, and an OEM short
// name gives few coarse keys.
func FuzzCodePageNames(f *testing.F) {
	f.Add("résumé-long-name.pdf", []byte("R\x90SUM\x90~1PDF"))
	f.Add("ア.txt", []byte("\x83A\x83A\x83A\x83AT\x83A"))
	f.Add("cafe\u0301.txt", []byte("CAF\x90    TXT"))
	f.Fuzz(func(t *testing.T, long string, short []byte) {
		var n [dirNameLen]byte
		copy(n[:], short)
		oemAliasOf(long, n)
		aliasOf(long, n)
		oemShortName(n, 0x18)
		if k := coarseKeys(n); len(k) > 64 {
			t.Fatalf("%d coarse keys for %q", len(k), n)
		}
		if foldKey(long) != foldKey(norm.NFD.String(long)) {
			t.Fatalf("foldKey depends on the normal form of %q", long)
		}
		coarseName(long)
	})
}
