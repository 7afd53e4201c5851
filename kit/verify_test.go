package kit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verifyFixture lays out a tools partition in a folder with its manifest and SHA256SUMS, and
// returns the folder and the trusted copies.
func verifyFixture(t *testing.T) (dir string, manifest, sums []byte) {
	t.Helper()
	dir = t.TempDir()
	files := testKit(t, dir)
	m := testManifest(t, files)
	manifest, sums, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), manifest, 0o644)
	os.WriteFile(filepath.Join(dir, SumsName), sums, 0o644)
	return dir, manifest, sums
}

func TestVerifyIntact(t *testing.T) {
	dir, manifest, sums := verifyFixture(t)
	// What macOS and Windows leave on every FAT drive they see is not tampering.
	os.MkdirAll(filepath.Join(dir, ".fseventsd"), 0o755)
	os.WriteFile(filepath.Join(dir, ".fseventsd", "fseventsd-uuid"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "bin", "._travelkit"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "System Volume Information"), 0o755)
	os.WriteFile(filepath.Join(dir, "System Volume Information", "IndexerVolumeGuid"), []byte("x"), 0o644)

	r, err := Verify(FSTree(os.DirFS(dir)), manifest, sums)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Err() != nil {
		t.Fatalf("intact kit reported: %v", r.Err())
	}
	if r.Checked != 9 || r.KitID != "amina-2026-12" {
		t.Errorf("checked %d files of kit %q", r.Checked, r.KitID)
	}
	if len(r.Differences) != 3 {
		t.Errorf("ignored entries: %v", r.Differences)
	}
	for _, d := range r.Differences {
		if d.Kind != Ignored {
			t.Errorf("%v", d)
		}
	}
}

func TestVerifyNamesTampering(t *testing.T) {
	dir, manifest, sums := verifyFixture(t)
	// A replaced binary (same size, to be sure the hash decides), a removed RESTORE page,
	// a new file, and a tools-partition SHA256SUMS rewritten to match the replacement.
	bin := filepath.Join(dir, "bin", "linux-amd64", "travelkit")
	orig, _ := os.ReadFile(bin)
	evil := []byte(strings.Repeat("X", len(orig)))
	os.WriteFile(bin, evil, 0o755)
	os.Remove(filepath.Join(dir, "RESTORE.en.html"))
	os.WriteFile(filepath.Join(dir, "autorun.inf"), []byte("[autorun]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, SumsName), append(sums, []byte("# edited\n")...), 0o644)

	r, err := Verify(FSTree(os.DirFS(dir)), manifest, sums)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() {
		t.Fatal("tampering not detected")
	}
	want := map[string]string{
		"bin/linux-amd64/travelkit": Modified,
		"RESTORE.en.html":           Missing,
		"autorun.inf":               Extra,
		SumsName:                    Modified,
	}
	got := map[string]string{}
	for _, d := range r.Problems() {
		got[d.Path] = d.Kind
	}
	if len(got) != len(want) {
		t.Errorf("problems %v, want %v", r.Problems(), want)
	}
	for p, k := range want {
		if got[p] != k {
			t.Errorf("%s: %q, want %q", p, got[p], k)
		}
	}
	err = r.Err()
	var te *TamperedError
	if !errors.As(err, &te) {
		t.Fatalf("Err() = %v", err)
	}
	msg := err.Error()
	for _, s := range []string{"modified: bin/linux-amd64/travelkit (sha256 " + hashHex(evil) + ", expected " + hashHex(orig) + ")",
		"missing: RESTORE.en.html", "extra: autorun.inf", "amina-2026-12", "4 problems"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error does not say %q:\n%s", s, msg)
		}
	}
}

func TestVerifyReplacedManifest(t *testing.T) {
	dir, manifest, sums := verifyFixture(t)
	// An attacker who replaces a binary and rewrites the partition's manifest and sums to
	// match is still caught: the trusted copy decides.
	bin := filepath.Join(dir, "bin", "windows-amd64", "travelkit.exe")
	os.WriteFile(bin, []byte("MZ evil"), 0o755)
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("{}"), 0o644)
	r, err := Verify(FSTree(os.DirFS(dir)), manifest, sums)
	if err != nil {
		t.Fatal(err)
	}
	p := r.Problems()
	if len(p) != 2 || p[0].Path != "bin/windows-amd64/travelkit.exe" || p[0].Kind != Modified ||
		p[1].Path != ManifestName || !strings.Contains(p[0].Detail, "7 bytes, expected 25") {
		t.Fatalf("problems: %v", p)
	}
}

func TestVerifyBadTrustedCopy(t *testing.T) {
	dir, manifest, sums := verifyFixture(t)
	tree := FSTree(os.DirFS(dir))
	other := []byte(strings.Replace(string(manifest), "amina", "other", 1))
	cases := map[string][2][]byte{
		"manifest not matching sums": {other, sums},
		"garbage manifest":           {[]byte("nope"), sums},
		"garbage sums":               {manifest, []byte("nope")},
		"sums without a file":        {manifest, []byte(strings.Join(strings.SplitAfter(string(sums), "\n")[1:], ""))},
	}
	for name, c := range cases {
		if _, err := Verify(tree, c[0], c[1]); err == nil || !strings.Contains(err.Error(), "trusted copy") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// hiddenTree marks some entries of a folder tree hidden, as the FAT32 reader does for the
// hidden and system attributes.
type hiddenTree struct {
	Tree
	hidden map[string]bool
}

func (h hiddenTree) Entries() ([]TreeEntry, error) {
	es, err := h.Tree.Entries()
	for i := range es {
		es[i].Hidden = h.hidden[es[i].Path]
	}
	return es, err
}

// TestVerifyOSAdditions: what Windows and macOS add is reported by name as theirs; anything
// that looks like a program among it, folders travelkit never made, and hidden files are
// problems.
func TestVerifyOSAdditions(t *testing.T) {
	dir, manifest, sums := verifyFixture(t)
	mk := func(p string, b []byte) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if b != nil {
			os.WriteFile(filepath.Join(dir, p), b, 0o644)
		}
	}
	mk(".fseventsd/fseventsd-uuid", []byte("x"))
	mk(".Spotlight-V100/Store-V2/x", []byte("x"))
	mk(".Trashes/501/y", []byte("x"))
	mk("System Volume Information/WPSettings.dat", []byte("x"))
	mk("System Volume Information/helper.exe", []byte("x"))              // by extension
	mk(".Trashes/payload", []byte("\x7fELF\x02\x01"))                    // by content
	mk(".DS_Store", []byte("\x00\x00\x00\x01Bud1"))                      // Finder data
	mk("bin/._travelkit", []byte("\x00\x05\x16\x07"))                    // AppleDouble
	mk("bin/linux-amd64/._travelkit", []byte("#!/bin/sh\necho pwned\n")) // a script
	mk("escrow/.DS_Store/readme.txt", []byte("x"))                       // a folder, not Finder data
	os.Mkdir(filepath.Join(dir, "URGENT READ ME"), 0o755)                // an empty folder
	mk("RESTORE.en.txt.bak", []byte("x"))                                // an ordinary extra file
	mk("hidden-note.txt", []byte("run this"))                            // hidden on Windows
	tree := hiddenTree{FSTree(os.DirFS(dir)), map[string]bool{"hidden-note.txt": true, "RESTORE.en.txt": true}}
	r, err := Verify(tree, manifest, sums)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range r.Differences {
		got[d.Path] = d.String()
	}
	want := map[string]string{
		".fseventsd/":                          "added by macOS: .fseventsd/",
		".Spotlight-V100/":                     "added by macOS: .Spotlight-V100/",
		".Trashes/":                            "added by macOS: .Trashes/",
		"System Volume Information/":           "added by Windows: System Volume Information/",
		".DS_Store":                            "added by macOS: .DS_Store",
		"bin/._travelkit":                      "added by macOS: bin/._travelkit",
		"System Volume Information/helper.exe": "extra: System Volume Information/helper.exe (looks like a program, among files Windows writes)",
		".Trashes/payload":                     "extra: .Trashes/payload (looks like a program, among files macOS writes)",
		"bin/linux-amd64/._travelkit":          "extra: bin/linux-amd64/._travelkit (looks like a program, among files macOS writes)",
		"escrow/.DS_Store/":                    "extra: escrow/.DS_Store/",
		"escrow/.DS_Store/readme.txt":          "extra: escrow/.DS_Store/readme.txt",
		"URGENT READ ME/":                      "extra: URGENT READ ME/",
		"RESTORE.en.txt.bak":                   "extra: RESTORE.en.txt.bak",
		"hidden-note.txt":                      "extra: hidden-note.txt (hidden: Windows does not show it, Linux and macOS do)",
		"RESTORE.en.txt":                       "modified: RESTORE.en.txt (hidden: Windows does not show it)",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("differences %v", r.Differences)
	}
	if r.OK() {
		t.Error("report OK")
	}
}
