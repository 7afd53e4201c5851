package kit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testKit writes a small tools partition into a folder and returns its files by path.
func testKit(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"bin/linux-amd64/travelkit":       []byte("\x7fELF pretend linux binary"),
		"bin/windows-amd64/travelkit.exe": []byte("MZ pretend windows binary"),
		"bin/darwin-arm64/travelkit":      []byte("\xcf\xfa\xed\xfe pretend mac binary"),
		"escrow/colleague-a.age":          []byte("-----BEGIN AGE ENCRYPTED FILE-----\n...\n"),
		"RESTORE.en.txt":                  []byte("How to get your files back\r\n"),
		"RESTORE.en.html":                 []byte("<!DOCTYPE html>\n"),
		"empty file":                      {},
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func testManifest(t *testing.T, files map[string][]byte) *Manifest {
	t.Helper()
	m := &Manifest{
		KitID:    "amina-2026-12",
		Created:  time.Date(2026, 11, 27, 4, 5, 6, 789, time.FixedZone("X", 3600)),
		Version:  "v0.1.0",
		LUKSUUID: "0b5b1b0e-2b27-4bd6-9c3d-8ad0c6c1c2f1",
		Keyslots: []Keyslot{{0, KeyslotPassphrase}, {1, KeyslotRecoveryKey}},
		Escrow:   []EscrowEntry{{Name: "colleague-a", Recipient: "age1...", Kind: "age-x25519", File: EscrowPath("colleague-a")}},
	}
	for p, b := range files {
		if err := m.Add(p, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestManifestRoundTrip(t *testing.T) {
	files := map[string][]byte{"b": []byte("bee"), "a/x": []byte("ex"), "c": nil}
	m := testManifest(t, files)
	js, sums, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"created": "2026-11-27T03:05:06Z"`)) {
		t.Errorf("created not RFC 3339 UTC at whole seconds:\n%s", js)
	}
	got, err := ParseManifest(js)
	if err != nil {
		t.Fatal(err)
	}
	if got.Files[0].Path != "a/x" || got.Files[2].Path != "c" || got.Files[1].SHA256 != hashHex([]byte("bee")) || got.Files[1].Size != 3 {
		t.Errorf("files: %+v", got.Files)
	}
	js2, sums2, err := got.Encode()
	if err != nil || !bytes.Equal(js, js2) || !bytes.Equal(sums, sums2) {
		t.Fatalf("not stable through a round trip: %v\n%s\n%s", err, js, js2)
	}
	if !reflect.DeepEqual(got.Keyslots, m.Keyslots) || !reflect.DeepEqual(got.Escrow, m.Escrow) {
		t.Error("keyslots or escrow lost")
	}
	want := hashHex(nil) + "  c\n"
	if !strings.HasPrefix(string(sums), hashHex([]byte("ex"))+"  a/x\n"+hashHex([]byte("bee"))+"  b\n"+want) ||
		!strings.HasSuffix(string(sums), hashHex(js)+"  manifest.json\n") {
		t.Errorf("SHA256SUMS:\n%s", sums)
	}
	parsed, err := ParseSums(sums)
	if err != nil || len(parsed) != 4 {
		t.Fatalf("ParseSums: %v %v", parsed, err)
	}
}

func TestManifestRejects(t *testing.T) {
	for _, p := range []string{"", "/abs", "../up", "a/../b", "a//b", "a\\b", "a\nb", "./a", "a/"} {
		if _, err := HashFile(p, strings.NewReader("")); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	m := &Manifest{KitID: "k", Files: []File{{Path: "manifest.json", SHA256: hashHex(nil)}}}
	if _, err := m.Marshal(); err == nil {
		t.Error("manifest listing itself accepted")
	}
	m = &Manifest{KitID: "k", Files: []File{{Path: "a", SHA256: "zz"}}}
	if _, err := m.Marshal(); err == nil {
		t.Error("bad hash accepted")
	}
	for _, js := range []string{``, `{}`, `{"format":1,"surprise":true}`, `{"format":2}`, `{"format":1} {}`, `[]`} {
		if _, err := ParseManifest([]byte(js)); err == nil {
			t.Errorf("ParseManifest(%s) accepted", js)
		}
	}
	h := hashHex(nil)
	for _, s := range []string{"", "\n", h + " a\n", h + "  a\n" + h + "  a\n", "xyz  a\n", h + "  a\n\n" + h + "  b\n", h + "  /etc/passwd\n"} {
		if _, err := ParseSums([]byte(s)); err == nil {
			t.Errorf("ParseSums(%q) accepted", s)
		}
	}
	if f, err := ParseSums([]byte(h + " *bin/x\n")); err != nil || f[0].Path != "bin/x" {
		t.Errorf("binary-mode line: %v %v", f, err)
	}
}

// SHA256SUMS must be exactly what `sha256sum -c` reads: run it in a folder laid out as the
// tools partition.
func TestSHA256SUMSWithSha256sum(t *testing.T) {
	dir := t.TempDir()
	files := testKit(t, dir)
	m := testManifest(t, files)
	js, sums, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), js, 0o644)
	os.WriteFile(filepath.Join(dir, SumsName), sums, 0o644)
	cmd := exec.Command(needTool(t, "sha256sum"), "--strict", "-c", SumsName)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), ": OK"); n != len(files)+1 {
		t.Fatalf("sha256sum checked %d files, want %d:\n%s", n, len(files)+1, out)
	}
	// And it fails on a changed binary, naming it.
	os.WriteFile(filepath.Join(dir, "bin/linux-amd64/travelkit"), []byte("evil"), 0o755)
	cmd = exec.Command("sha256sum", "-c", SumsName)
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bin/linux-amd64/travelkit: FAILED") {
		t.Fatalf("sha256sum did not catch the change: %v\n%s", err, out)
	}
	// Our own SHA256SUMS reader reads what sha256sum itself writes.
	cmd = exec.Command("sha256sum", "RESTORE.en.txt", "bin/darwin-arm64/travelkit")
	cmd.Dir = dir
	out, err = cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := ParseSums(out); err != nil || len(f) != 2 || f[0].SHA256 != hashHex(files["RESTORE.en.txt"]) {
		t.Fatalf("ParseSums(sha256sum output): %v, %v", f, err)
	}
}

func FuzzParseSums(f *testing.F) {
	h := hashHex(nil)
	f.Add([]byte(h + "  a\n" + h + " *b/c\n"))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := ParseSums(b)
		if err != nil {
			return
		}
		out, err := FormatSums(files)
		if err != nil {
			t.Fatalf("parsed but cannot format: %v", err)
		}
		again, err := ParseSums(out)
		if err != nil || len(again) != len(files) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	m := &Manifest{KitID: "k", Created: time.Unix(0, 0), Files: []File{{Path: "a", Size: 1, SHA256: hashHex([]byte("a"))}}}
	js, _ := m.Marshal()
	f.Add(js)
	f.Add([]byte(`{"format":1,"files":[{"path":"../x","size":1,"sha256":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		if _, _, err := m.Encode(); err != nil {
			t.Fatalf("parsed but cannot encode: %v", err)
		}
	})
}
