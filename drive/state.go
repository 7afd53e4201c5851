package drive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"travelkit/image/ext4"
	"travelkit/kit"
)

// The trusted state of a kit, inside its encrypted volume under travelkit/:
//
//	manifest.json, SHA256SUMS   the trusted copy of the tools partition's manifest
//	tools/<path>                copies of the tools files that cannot be made again: the
//	                            escrow files and the encrypted header backups
//	header-wraps                recovery-key wraps for rewriting luks-header.age
//	pending/...                 the same, for a change under way (refresh, key change)
//
// A change writes pending/ first (SHA256SUMS last), then the tools partition, then the
// current copy, and removes pending/ (SHA256SUMS first). A valid pending/ therefore means
// a change was interrupted after it was fully described: the tools partition may be half
// written, and `travelkit refresh` completes the change from pending/.
const (
	ToolsCopyDir = MetaDir + "/tools"
	PendingDir   = MetaDir + "/pending"
	wrapsFile    = kit.HeaderWrapsPath
)

// maxStateFile bounds a file read from the trusted state (the header backups are the
// largest: 16 MiB with LUKS2's defaults, up to 136 MiB with its largest areas).
const maxStateFile = 160 << 20

// State is one trusted state: the manifest pair, the copies of the tools files that
// cannot be made again, and the header wraps.
type State struct {
	ManifestJSON []byte
	Sums         []byte
	Manifest     *kit.Manifest
	Copies       map[string][]byte // tools partition path -> content
	Wraps        []kit.HeaderWrap
}

// NewState encodes a manifest into a state with the given copies and wraps.
func NewState(m *kit.Manifest, copies map[string][]byte, wraps []kit.HeaderWrap) (*State, error) {
	mj, sums, err := m.Encode()
	if err != nil {
		return nil, err
	}
	if err := checkCopies(m, copies); err != nil {
		return nil, err
	}
	return &State{ManifestJSON: mj, Sums: sums, Manifest: m, Copies: copies, Wraps: wraps}, nil
}

// checkCopies: every copy is listed in the manifest with its hash.
func checkCopies(m *kit.Manifest, copies map[string][]byte) error {
	for p, b := range copies {
		i := slices.IndexFunc(m.Files, func(f kit.File) bool { return f.Path == p })
		if i < 0 {
			return fmt.Errorf("trusted copy of %s is not in the manifest", p)
		}
		h := sha256.Sum256(b)
		if m.Files[i].SHA256 != hex.EncodeToString(h[:]) {
			return fmt.Errorf("trusted copy of %s does not match the manifest", p)
		}
	}
	return nil
}

// CopiedPath reports whether a tools partition file is kept in the trusted state: the
// escrow files and the encrypted header backups.
func CopiedPath(p string) bool {
	return p == kit.HeaderBackupPath || strings.HasPrefix(p, "escrow/") && strings.HasSuffix(p, ".age")
}

// ReadState reads the current trusted state and, when a change was interrupted, the
// pending one (nil otherwise). A current state of a kit built before the copies were kept
// has no Copies.
func (u *Unlocked) ReadState() (current, pending *State, err error) {
	current, err = readState(u.FS, MetaDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// A commit interrupted between manifest.json and SHA256SUMS leaves them apart;
		// pending/ then holds the state being committed.
		if p, perr := readState(u.FS, PendingDir); perr == nil {
			return nil, p, nil
		}
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the encrypted volume has no trusted copy of the manifest (%s): %w", MetaDir, err)
	}
	if p, perr := readState(u.FS, PendingDir); perr == nil {
		pending = p
	}
	return current, pending, nil
}

func readState(f *ext4.FS, dir string) (*State, error) {
	mj, err := readBounded(f, dir+"/"+kit.ManifestName)
	if err != nil {
		return nil, err
	}
	sums, err := readBounded(f, dir+"/"+kit.SumsName)
	if err != nil {
		return nil, err
	}
	m, err := kit.ParseManifest(mj)
	if err != nil {
		return nil, fmt.Errorf("trusted copy: %w", err)
	}
	files, err := kit.ParseSums(sums)
	if err != nil {
		return nil, fmt.Errorf("trusted copy: %w", err)
	}
	h := sha256.Sum256(mj)
	if i := slices.IndexFunc(files, func(x kit.File) bool { return x.Path == kit.ManifestName }); i < 0 || files[i].SHA256 != hex.EncodeToString(h[:]) {
		return nil, errors.New("trusted copy: SHA256SUMS does not match manifest.json")
	}
	s := &State{ManifestJSON: mj, Sums: sums, Manifest: m, Copies: map[string][]byte{}}
	for _, x := range m.Files {
		if !CopiedPath(x.Path) {
			continue
		}
		b, err := readBounded(f, dir+"/tools/"+x.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a kit from before the copies were kept
		}
		if err != nil {
			return nil, err
		}
		s.Copies[x.Path] = b
	}
	if err := checkCopies(m, s.Copies); err != nil {
		return nil, err
	}
	if b, err := readBounded(f, dir+"/"+wrapsFile); err == nil {
		if s.Wraps, err = kit.ParseHeaderWraps(b); err != nil {
			return nil, err
		}
		clear(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return s, nil
}

func readBounded(f *ext4.FS, p string) ([]byte, error) {
	st, err := f.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.Size > maxStateFile {
		return nil, fmt.Errorf("%s is %d bytes, more than a kit's trusted state holds", p, st.Size)
	}
	return f.ReadFile(p)
}

// WritePending records the state a change is about to give the kit, before the change
// touches the tools partition. SHA256SUMS is written last: pending/ is valid only once
// it is complete.
func (u *Unlocked) WritePending(s *State, now time.Time) error {
	if err := u.removeState(PendingDir); err != nil {
		return err
	}
	return u.writeState(PendingDir, s, now)
}

// CommitState makes s the current trusted state and removes pending/.
func (u *Unlocked) CommitState(s *State, now time.Time) error {
	if err := u.writeState(MetaDir, s, now); err != nil {
		return err
	}
	// Copies the new state no longer lists (a colleague removed from the escrow).
	if ents, err := u.listCopies(MetaDir); err == nil {
		for _, p := range ents {
			if _, keep := s.Copies[p]; !keep {
				if err := u.FS.Remove(MetaDir + "/tools/" + p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
	}
	return u.removeState(PendingDir)
}

func (u *Unlocked) writeState(dir string, s *State, now time.Time) error {
	write := func(p string, b []byte) error {
		if err := u.FS.WriteFile(p, bytes.NewReader(b), int64(len(b)), now); err != nil {
			return fmt.Errorf("writing %s in the encrypted volume: %w", p, err)
		}
		return nil
	}
	paths := make([]string, 0, len(s.Copies))
	for p := range s.Copies {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := write(dir+"/tools/"+p, s.Copies[p]); err != nil {
			return err
		}
	}
	if s.Wraps != nil {
		w := kit.MarshalHeaderWraps(s.Wraps)
		err := write(dir+"/"+wrapsFile, w)
		clear(w)
		if err != nil {
			return err
		}
	}
	if err := write(dir+"/"+kit.ManifestName, s.ManifestJSON); err != nil {
		return err
	}
	if err := write(dir+"/"+kit.SumsName, s.Sums); err != nil {
		return err
	}
	return u.Volume.Flush()
}

// removeState deletes a state folder, SHA256SUMS first so that it is never seen half gone.
func (u *Unlocked) removeState(dir string) error {
	if _, err := u.FS.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	rm := func(p string) error {
		if err := u.FS.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := rm(dir + "/" + kit.SumsName); err != nil {
		return err
	}
	if err := u.Volume.Flush(); err != nil {
		return err
	}
	copies, _ := u.listCopies(dir)
	for _, p := range copies {
		if err := rm(dir + "/tools/" + p); err != nil {
			return err
		}
	}
	for _, p := range []string{"tools/escrow", "tools", kit.ManifestName, wrapsFile, ""} {
		if err := rm(path.Join(dir, p)); err != nil {
			return err
		}
	}
	return u.Volume.Flush()
}

// listCopies lists the tools copies under dir/tools.
func (u *Unlocked) listCopies(dir string) ([]string, error) {
	var out []string
	for _, sub := range []string{"", "escrow"} {
		ents, err := u.FS.ReadDir(path.Join(dir, "tools", sub))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				out = append(out, path.Join(sub, e.Name))
			}
		}
	}
	return out, nil
}
