package kit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// Tree is the view of a tools partition that Verify needs: the FAT32 reader, a folder, or an
// fs.FS through FSTree.
type Tree interface {
	// Files lists every regular file, as slash-separated paths relative to the root.
	Files() ([]string, error)
	// Open opens one of them.
	Open(path string) (io.ReadCloser, error)
}

// FSTree adapts an fs.FS (os.DirFS, fstest.MapFS...) to a Tree.
func FSTree(fsys fs.FS) Tree { return fsTree{fsys} }

type fsTree struct{ fsys fs.FS }

func (t fsTree) Files() ([]string, error) {
	var out []string
	err := fs.WalkDir(t.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		} else if !d.IsDir() {
			// Symlinks and devices are not tools-partition content: report them as extra.
			out = append(out, p)
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
	Modified = "modified" // present in both with different content
	Ignored  = "ignored"  // on the partition, not listed, written by an OS (.fseventsd, System Volume Information...)
)

// Difference is one file that differs.
type Difference struct {
	Kind   string // Missing, Extra, Modified or Ignored
	Path   string
	Detail string // for Modified: expected and found sha256 (and sizes)
}

func (d Difference) String() string {
	if d.Detail == "" {
		return d.Kind + ": " + d.Path
	}
	return d.Kind + ": " + d.Path + " (" + d.Detail + ")"
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

// osMetadata reports whether a path is something macOS or Windows writes on every FAT
// drive they see. Such files are reported as Ignored, never as tampering; none of them is
// run by travelkit or the RESTORE steps.
func osMetadata(p string) bool {
	top, _, _ := strings.Cut(p, "/")
	switch top {
	case ".fseventsd", ".Spotlight-V100", ".Trashes", ".TemporaryItems", "System Volume Information", "$RECYCLE.BIN", ".DS_Store":
		return true
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	return base == ".DS_Store" || strings.HasPrefix(base, "._") // AppleDouble files
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

	have, err := t.Files()
	if err != nil {
		return nil, fmt.Errorf("failed to list the tools partition: %w", err)
	}
	r := &Report{KitID: m.KitID}
	present := map[string]bool{}
	for _, p := range have {
		present[p] = true
		w, ok := want[p]
		if !ok {
			if osMetadata(p) {
				r.Differences = append(r.Differences, Difference{Kind: Ignored, Path: p, Detail: "written by the operating system"})
			} else {
				r.Differences = append(r.Differences, Difference{Kind: Extra, Path: p})
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

func hashTreeFile(t Tree, p string) (File, error) {
	rc, err := t.Open(p)
	if err != nil {
		return File{}, fmt.Errorf("failed to open %s on the tools partition: %w", p, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return File{}, fmt.Errorf("failed to read %s on the tools partition: %w", p, err)
	}
	return File{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
