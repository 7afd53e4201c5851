package repo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, c := range []struct {
		in    string
		rules NameRules
		want  string
	}{
		{"report.txt", WindowsNames, "report.txt"},
		{"a\nb", WindowsNames, "a%0Ab"},
		{`back\slash`, WindowsNames, "back%5Cslash"},
		{`what?.txt`, WindowsNames, "what%3F.txt"},
		{"trailing. ", WindowsNames, "trailing%2E%20"},
		{"caf\xe9", WindowsNames, "caf%E9"},
		{"caf\xe9", MacNames, "caf%E9"},
		{"caf\xe9", POSIXNames, "caf\xe9"},
		{"a\nb", MacNames, "a\nb"},
		{"a:b", MacNames, "a:b"},
		{"a:b", WindowsNames, "a%3Ab"},
		{"café", WindowsNames, "café"},
		{"..", WindowsNames, "%2E%2E"},
		{"..", MacNames, "__"},
		// "%" itself: always on Windows, so that the mapping is reversible and
		// "a:b" and the file "a%3Ab" stay two files
		{"a%3Ab", WindowsNames, "a%253Ab"},
		{"50% off.pdf", WindowsNames, "50%25 off.pdf"},
		{"50% off.pdf", MacNames, "50% off.pdf"},
		{"caf\xe9 100%", MacNames, "caf%E9 100%25"},
		{"a/b%", POSIXNames, "a%2Fb%25"},
		{"100%", POSIXNames, "100%"},
		// every device name Microsoft reserves, any case, with or without an extension
		{"CON", WindowsNames, "CO%4E"},
		{"con.txt", WindowsNames, "co%6E.txt"},
		{"CON .txt", WindowsNames, "CO%4E .txt"},
		{"nul.tar.gz", WindowsNames, "nu%6C.tar.gz"},
		{"PRN", WindowsNames, "PR%4E"},
		{"aux", WindowsNames, "au%78"},
		{"LPT9.log", WindowsNames, "LPT%39.log"},
		{"COM0", WindowsNames, "COM%30"},
		{"LPT0", WindowsNames, "LPT%30"},
		{"COM\u00b9", WindowsNames, "COM%C2%B9"},
		{"lpt\u00b2.txt", WindowsNames, "lpt%C2%B2.txt"},
		{"COM\u00b3", WindowsNames, "COM%C2%B3"},
		{"CONIN$", WindowsNames, "CONIN%24"},
		{"conout$.log", WindowsNames, "conout%24.log"},
		{"COM10", WindowsNames, "COM10"},
		{"CONIN", WindowsNames, "CONIN"},
		{"COM\u2074", WindowsNames, "COM\u2074"}, // only ¹²³ are reserved
		{"CON", MacNames, "CON"},
		// cut to 255, keeping the extension
		{long + ".txt", WindowsNames, long[:251] + ".txt"},
		{long + ".txt", POSIXNames, long[:251] + ".txt"},
		{strings.Repeat(":", 100) + ".txt", WindowsNames, strings.Repeat("%3A", 83) + ".txt"},
		{strings.Repeat("\U0001F600", 200), WindowsNames, strings.Repeat("\U0001F600", 127)},
		{strings.Repeat("é", 200), MacNames, strings.Repeat("é", 127)},
		{strings.Repeat("é", 200), WindowsNames, strings.Repeat("é", 200)},
		{strings.Repeat("a", 254) + ". ", WindowsNames, strings.Repeat("a", 254)},
	} {
		if got := SafeName(c.in, c.rules); got != c.want {
			t.Errorf("SafeName(%.40q, %d) = %.60q, want %.60q", c.in, c.rules, got, c.want)
		}
	}
}

// unescapeName reverses SafeName's %XX escapes.
func unescapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkWindowsName fails when Windows could not hold name as a file of its own.
func checkWindowsName(t *testing.T, in, name string) {
	t.Helper()
	switch {
	case name == "" || name == "." || name == "..":
		t.Errorf("%q -> %q: not a name", in, name)
	case !utf8.ValidString(name):
		t.Errorf("%q -> %q: not valid UTF-8", in, name)
	case strings.ContainsAny(name, "<>:\"/\\|?*\x00") || strings.IndexFunc(name, func(r rune) bool { return r < 32 }) >= 0:
		t.Errorf("%q -> %q: a character Windows refuses", in, name)
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		t.Errorf("%q -> %q: ends in a dot or space", in, name)
	case isWindowsReserved(name):
		t.Errorf("%q -> %q: a reserved device name", in, name)
	case nameLen(name, WindowsNames) > 255:
		t.Errorf("%q -> %q: %d UTF-16 units", in, name, nameLen(name, WindowsNames))
	}
}

// Any name at all maps to one Windows holds, and back to itself unless it was cut.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"CON", "a:b", "a%3Ab", "caf\xe9", "..", "", "COM\u00b9.txt", "x. ", strings.Repeat("%", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeName(in, WindowsNames)
		checkWindowsName(t, in, out)
		if in != "" && in != "." && in != ".." && nameLen(mapName(in, WindowsNames), WindowsNames) <= 255 && unescapeName(out) != in {
			t.Errorf("%q -> %q does not map back (%q)", in, out, unescapeName(out))
		}
		for _, rules := range []NameRules{POSIXNames, MacNames} {
			out := SafeName(in, rules)
			if out == "" || out == "." || out == ".." || strings.ContainsAny(out, "/\x00") || len(out) > 255 {
				t.Errorf("%q -> %q: not a name for rules %d", in, out, rules)
			}
			if rules == MacNames && !utf8.ValidString(out) {
				t.Errorf("%q -> %q: not valid UTF-8 for macOS", in, out)
			}
		}
	})
}

func TestDistinctNames(t *testing.T) {
	d := newDistinctNames(WindowsNames, true)
	long := strings.Repeat("b", 255)
	var got []string
	for _, n := range []string{"File", "file", "FILE", "a.txt", "A.TXT", "a (2).txt", "x", long, long, "COM"} {
		got = append(got, d.claim(n))
	}
	want := []string{"File", "file (2)", "FILE (3)", "a.txt", "A (2).TXT", "a (2) (2).txt", "x",
		long, long[:251] + " (2)", "COM"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("claims:\n got %q\nwant %q", got, want)
	}
	s := newDistinctNames(POSIXNames, false)
	if a, b := s.claim("File"), s.claim("file"); a != "File" || b != "file" {
		t.Errorf("case-sensitive target renamed: %q %q", a, b)
	}
}

// awkwardNames are names a Linux snapshot may hold that Windows cannot hold as
// they are, or cannot hold side by side in one folder.
func awkwardNames() []string {
	long := strings.Repeat("long name ", 30)
	return []string{
		"File", "file", "FILE.txt", "file.txt", "Readme.md", "README.md",
		"a:b", "a%3Ab", "a%253Ab", "what?", "tab\there", "trailing.", "trailing ",
		"CON", "con.txt", "PRN", "AUX", "NUL.tar.gz", "COM1", "COM0", "LPT0", "LPT9",
		"COM\u00b9", "LPT\u00b3.log", "CONIN$", "CONOUT$", "caf\xe9",
		long + "one.txt", long + "two.txt", strings.Repeat("\U0001F600", 60) + ".txt",
		strings.Repeat(":", 90) + ".txt", "plain",
	}
}

// snapshotOfNames saves a snapshot of folder "src" holding one file per name,
// each with content "content of <name>"; see snapshotOfFiles.
func snapshotOfNames(t *testing.T, r *Repository, names []string) *Snapshot {
	t.Helper()
	files := map[string]string{}
	for _, n := range names {
		files[n] = "content of " + n
	}
	return snapshotOfFiles(t, r, files)
}

// snapshotOfFiles saves a snapshot of folder /src holding files (slash-separated
// paths below src, with their content) without a file system, as Linux made
// it: names that this system cannot create (File and file on Windows, a:b)
// still go in.
func snapshotOfFiles(t *testing.T, r *Repository, files map[string]string) *Snapshot {
	t.Helper()
	ctx := context.Background()
	r.StartSaving(ctx, 1)
	var scratch BlobScratch
	when := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	type dir struct {
		files map[string]string
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]string{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, content := range files {
		d := root
		parts := strings.Split(p, "/")
		for _, c := range parts[:len(parts)-1] {
			if d.dirs[c] == nil {
				d.dirs[c] = newDir()
			}
			d = d.dirs[c]
		}
		d.files[parts[len(parts)-1]] = content
	}
	var save func(d *dir) ID
	save = func(d *dir) ID {
		var nodes []*Node
		for name, content := range d.files {
			data := []byte(content)
			id := Hash(data)
			if _, err := r.SaveBlob(DataBlob, id, data, &scratch); err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, &Node{Name: name, Type: NodeFile, Mode: 0o644, ModTime: when,
				Size: uint64(len(data)), Content: []ID{id}})
		}
		for name, sub := range d.dirs {
			id := save(sub)
			nodes = append(nodes, &Node{Name: name, Type: NodeDir, Mode: 0o755 | os.ModeDir, ModTime: when, Subtree: &id})
		}
		id, err := r.SaveTree(&Tree{Nodes: nodes})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	src := save(root)
	top, err := r.SaveTree(&Tree{Nodes: []*Node{{Name: "src", Type: NodeDir, Mode: 0o755 | os.ModeDir,
		ModTime: when, Subtree: &src}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &Snapshot{Time: when, Tree: &top, Paths: []string{"/src"}, Hostname: "linux-laptop"}
	if err := r.SaveSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	return sn
}

// A Linux snapshot of awkward names restores on Windows (here under Wine, or
// with Windows' rules on a case-insensitive name set elsewhere) with every file
// present, distinct, and listed under the name actually written.
func TestRestoreAwkwardNamesForWindows(t *testing.T) {
	ctx := context.Background()
	r, _ := initTestRepo(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	names := awkwardNames()
	sn := snapshotOfNames(t, r, names)
	out := t.TempDir()
	res, err := r.Restore(ctx, sn, RestoreOptions{Target: out, TargetOS: "windows", Verify: true,
		Warn: func(p string, err error) { t.Errorf("restore %s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != len(names) {
		t.Errorf("%d files restored, want %d", res.Files, len(names))
	}
	written := map[string]string{} // snapshot path -> restored path
	for _, rn := range res.Renamed {
		if _, dup := written[rn.SnapshotPath]; dup {
			t.Errorf("%s listed twice", rn.SnapshotPath)
		}
		written[rn.SnapshotPath] = rn.RestoredPath
	}
	seen := map[string]string{}
	for _, name := range names {
		sp := "/src/" + name
		p, renamed := written[sp]
		if !renamed {
			p = filepath.Join(out, "src", name)
		}
		checkWindowsName(t, name, filepath.Base(p))
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, []byte("content of "+name)) {
			t.Errorf("%q: listed at %q, which holds %q (%v)", name, p, b, err)
		}
		key := foldName(p)
		if other, dup := seen[key]; dup {
			t.Errorf("%q and %q both restored to %q", name, other, p)
		}
		seen[key] = name
	}
	ents, err := os.ReadDir(filepath.Join(out, "src"))
	if err != nil || len(ents) != len(names) {
		t.Errorf("%d entries in the restored folder, want %d (%v)", len(ents), len(names), err)
	}
}
