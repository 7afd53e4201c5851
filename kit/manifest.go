package kit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Names of the two integrity files at the root of the tools partition. Copies of both are
// kept inside the encrypted volume under travelkit/ (TrustedDir), where nobody can change
// them without a key.
const (
	ManifestName = "manifest.json"
	SumsName     = "SHA256SUMS"
	TrustedDir   = "travelkit"
)

// MaxManifestSize bounds manifest.json and SHA256SUMS wherever they are read from a drive
// (a kit's are a few KiB): a larger one is refused before it is read.
const MaxManifestSize = 1 << 20

// ManifestFormat is the version of the manifest.json layout.
const ManifestFormat = 1

// Kinds of keyslot recorded in the manifest.
const (
	KeyslotPassphrase  = "passphrase"
	KeyslotRecoveryKey = "recovery-key"
	KeyslotTPM2        = "tpm2"
)

// Manifest describes a kit: what it is, how it can be unlocked, who holds an escrowed
// recovery key, and every file of the tools partition except manifest.json itself and
// SHA256SUMS. It is written as manifest.json; SHA256SUMS covers manifest.json and every
// other file.
type Manifest struct {
	Format   int           `json:"format"`
	KitID    string        `json:"kit_id"`
	Created  time.Time     `json:"created"` // RFC 3339, UTC, whole seconds
	Version  string        `json:"travelkit_version"`
	LUKSUUID string        `json:"luks_uuid"`
	Keyslots []Keyslot     `json:"keyslots"`
	Escrow   []EscrowEntry `json:"escrow"`
	// EscrowThreshold is k of a k-of-n escrow: each escrow file then holds one ssss share
	// of the recovery key and any k of them rebuild it. 0 (or 1): each escrow file holds
	// the whole recovery key.
	EscrowThreshold int `json:"escrow_threshold,omitempty"`
	// RecoveryKeyRotated is when the recovery key in use was made (at the build, or by
	// `travelkit keys rotate-recovery`); zero in manifests older than this field.
	RecoveryKeyRotated time.Time `json:"recovery_key_rotated,omitzero"`
	// ToolsWritten is when the tools partition was last written (build, refresh or a key
	// change); zero in manifests older than this field.
	ToolsWritten time.Time `json:"tools_written,omitzero"`
	Languages    []string  `json:"languages,omitempty"`
	Platforms    []string  `json:"platforms,omitempty"`
	// OffSite says that the kit's repository is copied off-site (`travelkit remote add`
	// set it): the RESTORE pages then say that a copy exists, not that one may.
	OffSite bool   `json:"off_site,omitempty"`
	Files   []File `json:"files"`
}

// Threshold is the number of escrow files needed to rebuild the recovery key (1 when
// each holds the whole key).
func (m *Manifest) Threshold() int { return max(m.EscrowThreshold, 1) }

// Keyslot is one LUKS2 keyslot and what unlocks it.
type Keyslot struct {
	Slot int    `json:"slot"`
	Kind string `json:"kind"` // KeyslotPassphrase, KeyslotRecoveryKey or KeyslotTPM2
}

// EscrowEntry is one colleague holding the recovery key.
type EscrowEntry struct {
	Name      string `json:"name"`
	Recipient string `json:"recipient"`
	Kind      string `json:"kind,omitempty"`  // RecipientKind: age-x25519, ssh-ed25519...
	File      string `json:"file"`            // EscrowPath(Name)
	Share     int    `json:"share,omitempty"` // with a threshold: the index of this colleague's ssss share
}

// File is one file of the tools partition.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the partition root
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lower-case hex
}

// HashFile reads r to the end and returns its File entry.
func HashFile(p string, r io.Reader) (File, error) {
	if err := validPath(p); err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return File{}, fmt.Errorf("failed to read %s: %w", p, err)
	}
	return File{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// validPath accepts clean, relative, slash-separated paths that sha256sum writes without
// escaping (no backslash, no newline) and that every OS can hold.
func validPath(p string) error {
	switch {
	case p == "" || p == "." || strings.HasPrefix(p, "/") || path.Clean(p) != p ||
		p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("bad file path %q: want a clean relative path", p)
	case !utf8.ValidString(p) || strings.ContainsAny(p, "\\\n\r\x00"):
		return fmt.Errorf("bad file path %q: no backslash, newline or NUL", p)
	}
	return nil
}

// Add hashes r as the file at path p and records it, replacing an earlier entry for p.
func (m *Manifest) Add(p string, r io.Reader) error {
	f, err := HashFile(p, r)
	if err != nil {
		return err
	}
	m.AddFile(f)
	return nil
}

// AddFile records f, replacing an earlier entry with the same path.
func (m *Manifest) AddFile(f File) {
	if i := slices.IndexFunc(m.Files, func(g File) bool { return g.Path == f.Path }); i >= 0 {
		m.Files[i] = f
		return
	}
	m.Files = append(m.Files, f)
}

// Marshal returns manifest.json: indented JSON with a final newline, files sorted by path,
// the creation time in UTC at whole seconds.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	c := *m
	if c.Format == 0 {
		c.Format = ManifestFormat
	}
	c.Created = c.Created.UTC().Truncate(time.Second)
	if !c.RecoveryKeyRotated.IsZero() {
		c.RecoveryKeyRotated = c.RecoveryKeyRotated.UTC().Truncate(time.Second)
	}
	if !c.ToolsWritten.IsZero() {
		c.ToolsWritten = c.ToolsWritten.UTC().Truncate(time.Second)
	}
	c.Files = slices.Clone(m.Files)
	slices.SortFunc(c.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	if c.Keyslots == nil {
		c.Keyslots = []Keyslot{}
	}
	if c.Escrow == nil {
		c.Escrow = []EscrowEntry{}
	}
	if c.Files == nil {
		c.Files = []File{}
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (m *Manifest) check() error {
	if m.EscrowThreshold < 0 || m.EscrowThreshold > len(m.Escrow) && m.EscrowThreshold > 1 {
		return fmt.Errorf("escrow threshold %d with %d escrow entries", m.EscrowThreshold, len(m.Escrow))
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := validPath(f.Path); err != nil {
			return err
		}
		if f.Path == ManifestName || f.Path == SumsName {
			return fmt.Errorf("%s must not list itself or %s", ManifestName, SumsName)
		}
		if seen[f.Path] {
			return fmt.Errorf("file %s listed twice", f.Path)
		}
		seen[f.Path] = true
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size || f.SHA256 != strings.ToLower(f.SHA256) {
			return fmt.Errorf("file %s: bad sha256 %q", f.Path, f.SHA256)
		}
		if f.Size < 0 {
			return fmt.Errorf("file %s: negative size", f.Path)
		}
	}
	return nil
}

// Encode returns manifest.json and SHA256SUMS, which covers every file of the manifest and
// manifest.json itself. Both go to the root of the tools partition and, as the trusted copy,
// under travelkit/ inside the encrypted volume.
func (m *Manifest) Encode() (manifestJSON, sums []byte, err error) {
	manifestJSON, err = m.Marshal()
	if err != nil {
		return nil, nil, err
	}
	mf, _ := HashFile(ManifestName, bytes.NewReader(manifestJSON))
	files := append(slices.Clone(m.Files), mf)
	sums, err = FormatSums(files)
	if err != nil {
		return nil, nil, err
	}
	return manifestJSON, sums, nil
}

// ParseManifest parses manifest.json strictly (unknown fields are errors) and checks it.
func ParseManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bad %s: %w", ManifestName, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("bad %s: data after the JSON object", ManifestName)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("bad %s: format %d, this travelkit reads format %d", ManifestName, m.Format, ManifestFormat)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("bad %s: %w", ManifestName, err)
	}
	return &m, nil
}

// FormatSums writes files in the format of `sha256sum` (text mode): "HEX  PATH\n", sorted by
// path, so that `cd ROOT && sha256sum -c SHA256SUMS` checks them.
func FormatSums(files []File) ([]byte, error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	var b bytes.Buffer
	for i, f := range files {
		if err := validPath(f.Path); err != nil {
			return nil, err
		}
		if i > 0 && files[i-1].Path == f.Path {
			return nil, fmt.Errorf("file %s listed twice", f.Path)
		}
		if d, err := hex.DecodeString(f.SHA256); err != nil || len(d) != sha256.Size {
			return nil, fmt.Errorf("file %s: bad sha256 %q", f.Path, f.SHA256)
		}
		fmt.Fprintf(&b, "%s  %s\n", strings.ToLower(f.SHA256), f.Path)
	}
	return b.Bytes(), nil
}

// ParseSums reads a SHA256SUMS file as FormatSums writes it (and as sha256sum writes it in
// text or binary mode, "HEX *PATH"). Sizes are unknown and left at -1.
func ParseSums(b []byte) ([]File, error) {
	var files []File
	seen := map[string]bool{}
	lines := strings.Split(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for n, line := range lines {
		if line == "" {
			return nil, fmt.Errorf("bad %s: line %d is empty", SumsName, n+1)
		}
		sum, p, ok := strings.Cut(line, " ")
		if !ok || len(p) < 2 || (p[0] != ' ' && p[0] != '*') {
			return nil, fmt.Errorf("bad %s: line %d: want \"SHA256  PATH\"", SumsName, n+1)
		}
		p = p[1:]
		if d, err := hex.DecodeString(sum); err != nil || len(d) != sha256.Size {
			return nil, fmt.Errorf("bad %s: line %d: bad sha256", SumsName, n+1)
		}
		if err := validPath(p); err != nil {
			return nil, fmt.Errorf("bad %s: line %d: %v", SumsName, n+1, err)
		}
		if seen[p] {
			return nil, fmt.Errorf("bad %s: line %d: %s listed twice", SumsName, n+1, p)
		}
		seen[p] = true
		files = append(files, File{Path: p, Size: -1, SHA256: strings.ToLower(sum)})
	}
	if len(files) == 0 {
		return nil, errors.New("bad " + SumsName + ": no files")
	}
	return files, nil
}
