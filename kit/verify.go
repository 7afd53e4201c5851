package kit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Tree is the view of a tools partition that Verify needs: the FAT32 reader, a folder, or an
// fs.FS through FSTree.
type Tree interface {
	// Entries lists every file and folder below the root, as slash-separated paths.
	Entries() ([]TreeEntry, error)
	// Open opens a file.
	Open(path string) (io.ReadCloser, error)
}

// TreeEntry is one file or folder of a Tree.
type TreeEntry struct {
	Path   string
	Dir    bool
	Hidden bool // Windows hides it (hidden or system attribute); Linux and macOS show it
}

// FSTree adapts an fs.FS (os.DirFS, fstest.MapFS...) to a Tree.
func FSTree(fsys fs.FS) Tree { return fsTree{fsys} }

type fsTree struct{ fsys fs.FS }

func (t fsTree) Entries() ([]TreeEntry, error) {
	var out []TreeEntry
	err := fs.WalkDir(t.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." {
			// Symlinks and devices are not tools-partition content: they count as files,
			// and so as extra.
			out = append(out, TreeEntry{Path: p, Dir: d.IsDir()})
		}
		return nil
	})
	return out, err
}

func (t fsTree) Open(p string) (io.ReadCloser, error) { return t.fsys.Open(p) }

// Kinds of difference between a tools partition and the trusted copy of its manifest.
const (
	Missing  = "missing"  // listed in the trusted copy, absent from the partition
	Extra    = "extra"    // on the partition, not listed in the trusted copy
	Modified = "modified" // present in both with different content or attributes
	Ignored  = "ignored"  // added by Windows or macOS (.fseventsd, System Volume Information...), not executable
)

// Difference is one file or folder that differs. Folders end in "/".
type Difference struct {
	Kind   string // Missing, Extra, Modified or Ignored
	Path   string
	Detail string // Modified: expected and found sha256 (and sizes); Ignored: "added by macOS"...
}

func (d Difference) String() string {
	kind := d.Kind
	if d.Kind == Ignored && d.Detail != "" {
		return d.Detail + ": " + d.Path
	}
	if d.Detail == "" {
		return kind + ": " + d.Path
	}
	return kind + ": " + d.Path + " (" + d.Detail + ")"
}

// Report is the result of Verify.
type Report struct {
	KitID       string
	Checked     int          // files compared
	Differences []Difference // sorted by path; includes Ignored entries
}

// OK reports whether the partition matches the trusted copy (Ignored entries aside).
func (r *Report) OK() bool { return len(r.Problems()) == 0 }

// Problems are the differences that are not Ignored.
func (r *Report) Problems() []Difference {
	var out []Difference
	for _, d := range r.Differences {
		if d.Kind != Ignored {
			out = append(out, d)
		}
	}
	return out
}

// Err returns nil when OK, and otherwise a *TamperedError naming every problem.
func (r *Report) Err() error {
	if p := r.Problems(); len(p) > 0 {
		return &TamperedError{KitID: r.KitID, Problems: p}
	}
	return nil
}

// TamperedError says that the tools partition differs from the trusted copy.
type TamperedError struct {
	KitID    string
	Problems []Difference
}

func (e *TamperedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the tools partition of kit %q differs from the copy kept inside the encrypted volume (%d problem", e.KitID, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, d := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(d.String())
	}
	return b.String()
}

// OS additions: what Windows and macOS write on every FAT drive they see. They are reported
// by name as added by the OS, never as tampering, unless they look executable. None of them
// is run by travelkit or the RESTORE steps.
var (
	osFolders = map[string]string{ // at the root
		"System Volume Information": "Windows",
		"$RECYCLE.BIN":              "Windows",
		".fseventsd":                "macOS",
		".Spotlight-V100":           "macOS",
		".Trashes":                  "macOS",
		".TemporaryItems":           "macOS",
	}
	// Extensions that Windows, macOS or a Linux desktop run or open as a program.
	executableExt = map[string]bool{
		".exe": true, ".com": true, ".bat": true, ".cmd": true, ".ps1": true, ".psm1": true, ".vbs": true,
		".vbe": true, ".js": true, ".jse": true, ".wsf": true, ".wsh": true, ".msi": true, ".msp": true,
		".scr": true, ".pif": true, ".lnk": true, ".hta": true, ".cpl": true, ".jar": true, ".sh": true,
		".bash": true, ".command": true, ".tool": true, ".app": true, ".desktop": true, ".py": true,
		".pl": true, ".rb": true, ".dll": true, ".so": true, ".dylib": true, ".reg": true, ".inf": true,
		".url": true, ".scf": true, ".appimage": true, ".run": true, ".deb": true, ".rpm": true,
		".pkg": true, ".dmg": true, ".iso": true, ".img": true, ".elf": true, ".bin": true,
	}
	// Magic numbers of programs: PE, ELF, Mach-O (both byte orders, 32/64-bit, universal),
	// scripts.
	executableMagic = []string{"MZ", "\x7fELF", "#!", "\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf",
		"\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe", "\xca\xfe\xba\xbe"}
)

// osAddition returns the OS that writes p ("Windows", "macOS"), inFolder when p is inside
// one of the OS's folders (the folder itself is reported, not its contents), or "".
func osAddition(e TreeEntry) (who string, inFolder bool) {
	top, _, nested := strings.Cut(e.Path, "/")
	if o, ok := osFolders[top]; ok {
		if !nested && !e.Dir {
			return "", false // a file named like the folder
		}
		return o, nested
	}
	if e.Dir {
		return "", false
	}
	base := e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	if base == ".DS_Store" || strings.HasPrefix(base, "._") { // Finder data, AppleDouble files
		return "macOS", false
	}
	return "", false
}

// executable reports whether a file looks like a program: by its extension, or by the
// first bytes of its content.
func executable(t Tree, p string) (bool, error) {
	if i := strings.LastIndexByte(p, '.'); i >= 0 && executableExt[strings.ToLower(p[i:])] {
		return true, nil
	}
	rc, err := t.Open(p)
	if err != nil {
		return false, fmt.Errorf("failed to open %q on the tools partition: %w", p, err)
	}
	defer rc.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(rc, head)
	for _, m := range executableMagic {
		if strings.HasPrefix(string(head[:n]), m) {
			return true, nil
		}
	}
	return false, nil
}

// Verify compares a tools partition with the trusted copy of its manifest.json and
// SHA256SUMS (read from travelkit/ inside the encrypted volume) and reports every file that
// is missing, extra or modified. The trusted SHA256SUMS decides; the trusted manifest must
// agree with it. An error means the trusted copy is unusable or the partition unreadable; a
// tampered partition is a Report that is not OK.
func Verify(t Tree, trustedManifest, trustedSums []byte) (*Report, error) {
	m, err := ParseManifest(trustedManifest)
	if err != nil {
		return nil, fmt.Errorf("trusted copy: %w", err)
	}
	sums, err := ParseSums(trustedSums)
	if err != nil {
		return nil, fmt.Errorf("trusted copy: %w", err)
	}
	want := map[string]File{}
	for _, f := range sums {
		want[f.Path] = f
	}
	// The trusted pair must be one: SHA256SUMS lists the manifest's files with the same
	// hashes, plus manifest.json with the hash of the trusted manifest.
	mh := sha256.Sum256(trustedManifest)
	if f, ok := want[ManifestName]; !ok || f.SHA256 != hex.EncodeToString(mh[:]) {
		return nil, errors.New("trusted copy: SHA256SUMS does not match manifest.json (the copy inside the volume is damaged)")
	}
	if len(m.Files)+1 != len(sums) {
		return nil, errors.New("trusted copy: SHA256SUMS and manifest.json list different files (the copy inside the volume is damaged)")
	}
	for _, f := range m.Files {
		if g, ok := want[f.Path]; !ok || g.SHA256 != f.SHA256 {
			return nil, fmt.Errorf("trusted copy: SHA256SUMS and manifest.json disagree on %s (the copy inside the volume is damaged)", f.Path)
		}
		w := want[f.Path]
		w.Size = f.Size
		want[f.Path] = w
	}
	want[SumsName] = File{Path: SumsName, Size: int64(len(trustedSums)), SHA256: hashHex(trustedSums)}

	have, err := t.Entries()
	if err != nil {
		return nil, fmt.Errorf("failed to list the tools partition: %w", err)
	}
	// Folders the trusted files are in.
	wantDirs := map[string]bool{}
	for p := range want {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			wantDirs[d] = true
		}
	}
	r := &Report{KitID: m.KitID}
	present := map[string]bool{}
	for _, e := range have {
		p := e.Path
		present[p] = true
		if e.Dir && wantDirs[p] {
			if e.Hidden {
				r.Differences = append(r.Differences, Difference{Kind: Modified, Path: p + "/", Detail: "hidden: Windows does not show it"})
			}
			continue
		}
		w, ok := want[p]
		if !ok || e.Dir {
			d, err := extra(t, e)
			if err != nil {
				return nil, err
			}
			if d != nil {
				r.Differences = append(r.Differences, *d)
			}
			continue
		}
		got, err := hashTreeFile(t, p)
		if err != nil {
			return nil, err
		}
		r.Checked++
		if got.SHA256 != w.SHA256 {
			d := fmt.Sprintf("sha256 %s, expected %s", got.SHA256, w.SHA256)
			if w.Size >= 0 && got.Size != w.Size {
				d = fmt.Sprintf("%d bytes, expected %d; %s", got.Size, w.Size, d)
			}
			r.Differences = append(r.Differences, Difference{Kind: Modified, Path: p, Detail: d})
		} else if e.Hidden {
			r.Differences = append(r.Differences, Difference{Kind: Modified, Path: p, Detail: "hidden: Windows does not show it"})
		}
	}
	for p := range want {
		if !present[p] {
			r.Differences = append(r.Differences, Difference{Kind: Missing, Path: p})
		}
	}
	slices.SortFunc(r.Differences, func(a, b Difference) int { return strings.Compare(a.Path, b.Path) })
	return r, nil
}

// extra classifies an entry that the trusted copy does not list: added by an OS (nil when
// inside an OS folder that is reported itself), or extra.
func extra(t Tree, e TreeEntry) (*Difference, error) {
	p := e.Path
	shown := p
	if e.Dir {
		shown += "/"
	}
	who, inFolder := osAddition(e)
	if who != "" && !e.Dir {
		x, err := executable(t, p)
		if err != nil {
			return nil, err
		}
		if x {
			return &Difference{Kind: Extra, Path: shown, Detail: "looks like a program, among files " + who + " writes"}, nil
		}
	}
	switch {
	case who != "" && inFolder:
		return nil, nil
	case who != "":
		return &Difference{Kind: Ignored, Path: shown, Detail: "added by " + who}, nil
	case e.Hidden:
		return &Difference{Kind: Extra, Path: shown, Detail: "hidden: Windows does not show it, Linux and macOS do"}, nil
	}
	return &Difference{Kind: Extra, Path: shown}, nil
}

func hashTreeFile(t Tree, p string) (File, error) {
	rc, err := t.Open(p)
	if err != nil {
		return File{}, fmt.Errorf("failed to open %q on the tools partition: %w", p, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return File{}, fmt.Errorf("failed to read %q on the tools partition: %w", p, err)
	}
	return File{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
