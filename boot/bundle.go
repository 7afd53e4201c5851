package boot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// BundleManifest is where a bundle's manifest lives, relative to the bundle folder (and
// to the tools partition's root, once a kit carries the bundle).
const BundleManifest = "boot/bundle.json"

// BundleFormat is the version of bundle.json's layout.
const BundleFormat = 1

// Paths of the boot chain on the tools partition.
const (
	ShimPath   = "EFI/BOOT/BOOTX64.EFI" // the removable-media path UEFI firmware boots
	GrubPath   = "EFI/BOOT/grubx64.efi" // shim loads grubx64.efi from its own folder
	KernelPath = "boot/vmlinuz"
	InitrdPath = "boot/initrd.img"
	GrubCfg    = "boot/grub/grub.cfg"
	DiskInfo   = ".disk/info" // what Debian's live-media grub searches for
)

// Bounds on a bundle read from a drive: a real one has ~70 files and ~25 MiB.
const (
	maxManifestSize = 1 << 20   // bundle.json
	maxFiles        = 1000      // files listed
	maxFileSize     = 256 << 20 // one file
	maxTotalSize    = 512 << 20 // all files
)

// Package is one Debian package the bundle's files come from.
type Package struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	SHA256       string `json:"sha256"` // of the .deb, as apt's archive index records it
}

// BundleFile is one file of the bundle.
type BundleFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Userspace is a program (or library) the initramfs needs, and where it goes there.
type Userspace struct {
	Path    string `json:"path"`    // in the bundle
	Install string `json:"install"` // absolute path in the initramfs
}

// Bundle is a parsed boot/bundle.json.
type Bundle struct {
	Format        int          `json:"format"`
	Arch          string       `json:"arch"`
	KernelVersion string       `json:"kernel_version"`
	Packages      []Package    `json:"packages"`
	Modules       []string     `json:"modules"` // bundle paths of .ko files, in load order
	Userspace     []Userspace  `json:"userspace"`
	Files         []BundleFile `json:"files"`
}

// ErrNoBundle says a folder holds no boot bundle.
var ErrNoBundle = errors.New("no boot bundle")

// ParseBundle parses and checks bundle.json. Every path must be clean, relative and under
// EFI/BOOT/ or boot/; modules and userspace entries must name listed files; the boot chain
// (shim, grub, kernel) must be present; sizes and counts are bounded.
func ParseBundle(b []byte) (*Bundle, error) {
	if len(b) > maxManifestSize {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", BundleManifest, len(b), maxManifestSize)
	}
	var m Bundle
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", BundleManifest, err)
	}
	if m.Format != BundleFormat {
		return nil, fmt.Errorf("%s: format %d, this travelkit reads format %d (run make bootenv again)", BundleManifest, m.Format, BundleFormat)
	}
	if m.Arch != "amd64" {
		return nil, fmt.Errorf("%s: architecture %q: only amd64 boots (Debian 12 has no signed arm64 grub)", BundleManifest, m.Arch)
	}
	if !validWord(m.KernelVersion) {
		return nil, fmt.Errorf("%s: bad kernel version %q", BundleManifest, m.KernelVersion)
	}
	if len(m.Files) == 0 || len(m.Files) > maxFiles || len(m.Modules) > maxFiles || len(m.Userspace) > maxFiles || len(m.Packages) > maxFiles {
		return nil, fmt.Errorf("%s: %d files, %d modules: want 1 to %d", BundleManifest, len(m.Files), len(m.Modules), maxFiles)
	}
	for _, p := range m.Packages {
		if !validWord(p.Name) || !validWord(p.Version) || !isHex64(p.SHA256) {
			return nil, fmt.Errorf("%s: bad package entry %q %q", BundleManifest, p.Name, p.Version)
		}
	}
	listed := map[string]bool{}
	var total int64
	for _, f := range m.Files {
		if err := validBundlePath(f.Path); err != nil {
			return nil, fmt.Errorf("%s: %w", BundleManifest, err)
		}
		if listed[f.Path] {
			return nil, fmt.Errorf("%s: %s listed twice", BundleManifest, f.Path)
		}
		if f.Size < 0 || f.Size > maxFileSize || !isHex64(f.SHA256) {
			return nil, fmt.Errorf("%s: %s: bad size %d or sha256", BundleManifest, f.Path, f.Size)
		}
		for _, own := range []string{InitrdPath, GrubCfg, BundleManifest} {
			if f.Path == own {
				return nil, fmt.Errorf("%s: %s is written by travelkit, not taken from a bundle", BundleManifest, f.Path)
			}
		}
		listed[f.Path] = true
		total += f.Size
	}
	if total > maxTotalSize {
		return nil, fmt.Errorf("%s: %d bytes in all, more than %d", BundleManifest, total, maxTotalSize)
	}
	for _, need := range []string{ShimPath, GrubPath, KernelPath} {
		if !listed[need] {
			return nil, fmt.Errorf("%s: no %s", BundleManifest, need)
		}
	}
	for _, mod := range m.Modules {
		if !listed[mod] || !strings.HasPrefix(mod, "boot/modules/") || !strings.HasSuffix(mod, ".ko") {
			return nil, fmt.Errorf("%s: module %q is not a listed boot/modules/*.ko file", BundleManifest, mod)
		}
	}
	for _, u := range m.Userspace {
		if !listed[u.Path] {
			return nil, fmt.Errorf("%s: userspace file %q is not listed", BundleManifest, u.Path)
		}
		if !strings.HasPrefix(u.Install, "/") || path.Clean(u.Install) != u.Install || u.Install == "/init" ||
			strings.HasPrefix(u.Install, "/etc/travelkit") || !validWord(strings.ReplaceAll(u.Install, "/", "")) {
			return nil, fmt.Errorf("%s: bad install path %q", BundleManifest, u.Install)
		}
	}
	return &m, nil
}

// validBundlePath accepts clean relative paths under EFI/BOOT/ or boot/ made of
// printable ASCII without spaces.
func validBundlePath(p string) error {
	if p == "" || path.Clean(p) != p || strings.HasPrefix(p, "/") || strings.Contains(p, "..") ||
		!(strings.HasPrefix(p, "EFI/BOOT/") || strings.HasPrefix(p, "boot/")) || !validWord(strings.ReplaceAll(p, "/", "")) {
		return fmt.Errorf("bad file path %q: want a clean path under EFI/BOOT/ or boot/", p)
	}
	return nil
}

// validWord: 1 to 200 printable ASCII characters, no space, quote or backslash.
func validWord(s string) bool {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == '"' || r == '\\' || r == '\'' {
			return false
		}
	}
	return true
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Source is a bundle in a folder: its manifest and the folder to read files from.
type Source struct {
	Dir    string // the folder; its boot/bundle.json is the manifest
	Bundle *Bundle
}

// Open reads the bundle in dir. A folder without boot/bundle.json gives ErrNoBundle.
// File contents are checked against the manifest when they are read ([Source.ReadFile]).
func Open(dir string) (*Source, error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(BundleManifest)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s (no %s; make bootenv gathers one into dist/bootenv)", ErrNoBundle, dir, BundleManifest)
		}
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, err
	}
	m, err := ParseBundle(b)
	if err != nil {
		return nil, fmt.Errorf("boot bundle in %s: %w", dir, err)
	}
	return &Source{Dir: dir, Bundle: m}, nil
}

// Find returns the first bundle among dirs, each tried as a bundle folder itself, then as
// a folder holding "bootenv" (dist/), then as bin/<os>-<arch>/ of a kit's tools partition
// (whose root, two levels up, carries the bundle). It returns ErrNoBundle when none has one.
func Find(dirs []string) (*Source, error) {
	var tried []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		cands := []string{d, filepath.Join(d, "bootenv")}
		if filepath.Base(filepath.Dir(filepath.Clean(d))) == "bin" {
			cands = append(cands, filepath.Join(d, "..", ".."))
		}
		for _, c := range cands {
			s, err := Open(c)
			if err == nil {
				return s, nil
			}
			if !errors.Is(err, ErrNoBundle) {
				return nil, err
			}
		}
		tried = append(tried, d)
	}
	return nil, fmt.Errorf("%w in %s (make bootenv gathers one into dist/bootenv; give --boot DIR)", ErrNoBundle, strings.Join(tried, ", "))
}

// ReadFile reads a listed file of the bundle and checks its size and sha256.
func (s *Source) ReadFile(p string) ([]byte, error) {
	var want *BundleFile
	for i := range s.Bundle.Files {
		if s.Bundle.Files[i].Path == p {
			want = &s.Bundle.Files[i]
		}
	}
	if want == nil {
		return nil, fmt.Errorf("boot bundle: %s is not listed in %s", p, BundleManifest)
	}
	f, err := os.Open(filepath.Join(s.Dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, fmt.Errorf("boot bundle: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, want.Size+1))
	if err != nil {
		return nil, fmt.Errorf("boot bundle: %s: %w", p, err)
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != want.Size || hex.EncodeToString(sum[:]) != want.SHA256 {
		return nil, fmt.Errorf("boot bundle: %s in %s does not match %s (size or sha256): gather the bundle again with make bootenv", p, s.Dir, BundleManifest)
	}
	return b, nil
}

// Size is the total size of the bundle's files.
func (b *Bundle) Size() int64 {
	var n int64
	for _, f := range b.Files {
		n += f.Size
	}
	return n
}
