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
	"strconv"
	"strings"
	"time"

	"travelkit/image/ext4"
	"travelkit/kit"
)

// The trusted state of a kit, inside its encrypted volume under travelkit/:
//
//	manifest.json, SHA256SUMS   the trusted copy of the tools partition's manifest
//	tools/<path>                copies of the tools files that cannot be made again: the
//	                            escrow files
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
	retireFile   = "retire"
	// PendingKeyslotFile names the keyslot a rotation is about to add, written before the
	// keyslot is: a keyslot it names that no trusted state lists is a leftover of an
	// interrupted rotation.
	PendingKeyslotFile = MetaDir + "/pending-keyslot"
)

// maxStateFile bounds a file read from the trusted state (manifests, escrow files).
const maxStateFile = 16 << 20

// State is one trusted state: the manifest pair, the copies of the tools files that
// cannot be made again, and the header wraps.
type State struct {
	ManifestJSON []byte
	Sums         []byte
	Manifest     *kit.Manifest
	Copies       map[string][]byte // tools partition path -> content
	Wraps        []kit.HeaderWrap
	// What a pending change still has to remove when it is completed: keyslots of old
	// secrets and the repository keys made for them (pending states only).
	Retire         []int
	RetireRepoKeys []string
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
// escrow files, which cannot be made again without the recovery key. (The encrypted header
// backups are made anew from the header whenever the tools partition is written.)
func CopiedPath(p string) bool {
	return p != kit.EscrowHeaderBackupPath && strings.HasPrefix(p, "escrow/") && strings.HasSuffix(p, ".age")
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
	if b, err := readBounded(f, dir+"/"+retireFile); err == nil {
		if err := s.parseRetire(b); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
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
	if err := u.removeState(PendingDir); err != nil {
		return err
	}
	return u.ClearPendingKeyslot()
}

// SetPendingKeyslot records the keyslot a rotation is about to add.
func (u *Unlocked) SetPendingKeyslot(slot int) error {
	b := []byte(strconv.Itoa(slot) + "\n")
	if err := u.FS.WriteFile(PendingKeyslotFile, bytes.NewReader(b), int64(len(b)), time.Now()); err != nil {
		return err
	}
	return u.Volume.Flush()
}

// PendingKeyslot returns the keyslot a rotation was about to add, or -1.
func (u *Unlocked) PendingKeyslot() int {
	b, err := u.FS.ReadFile(PendingKeyslotFile)
	if err != nil || len(b) > 16 {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 || n >= 32 {
		return -1
	}
	return n
}

// ClearPendingKeyslot removes the record of SetPendingKeyslot.
func (u *Unlocked) ClearPendingKeyslot() error {
	if err := u.FS.Remove(PendingKeyslotFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return u.Volume.Flush()
}

// DiscardPending removes a pending state that never took effect.
func (u *Unlocked) DiscardPending() error { return u.removeState(PendingDir) }

func (s *State) marshalRetire() []byte {
	var b bytes.Buffer
	for _, k := range s.Retire {
		fmt.Fprintf(&b, "keyslot %d\n", k)
	}
	for _, n := range s.RetireRepoKeys {
		fmt.Fprintf(&b, "repo-key %s\n", n)
	}
	return b.Bytes()
}

func (s *State) parseRetire(b []byte) error {
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		kind, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch kind {
		case "":
		case "keyslot":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n >= 32 {
				return fmt.Errorf("trusted state: bad retire line %q", line)
			}
			s.Retire = append(s.Retire, n)
		case "repo-key":
			if len(v) != 64 || strings.Trim(v, "0123456789abcdef") != "" {
				return fmt.Errorf("trusted state: bad retire line %q", line)
			}
			s.RetireRepoKeys = append(s.RetireRepoKeys, v)
		default:
			return fmt.Errorf("trusted state: bad retire line %q", line)
		}
	}
	return nil
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
	if len(s.Retire)+len(s.RetireRepoKeys) > 0 {
		if err := write(dir+"/"+retireFile, s.marshalRetire()); err != nil {
			return err
		}
	} else if err := u.FS.Remove(dir + "/" + retireFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
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
	for _, p := range []string{"tools/escrow", "tools", kit.ManifestName, wrapsFile, retireFile, ""} {
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

// RepoKeysFile, inside the volume, records the names of the repository key files made for
// the kit's secrets (one "KIND NAME" line each), so that a key change can remove the key of
// an old secret without knowing that secret.
const RepoKeysFile = MetaDir + "/repo-keys"

const recoveryKeyKind = "recovery-key"

// RecoveryRepoKey returns the name of the repository key file recorded for the recovery
// key, or "".
func RecoveryRepoKey(u *Unlocked) (string, error) {
	b, err := u.FS.ReadFile(RepoKeysFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if kind, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && kind == recoveryKeyKind {
			return name, nil
		}
	}
	return "", nil
}

// SetRecoveryRepoKey records name as the repository key file of the recovery key.
func SetRecoveryRepoKey(u *Unlocked, name string) error {
	var lines []string
	if b, err := u.FS.ReadFile(RepoKeysFile); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if kind, _, _ := strings.Cut(line, " "); line != "" && kind != recoveryKeyKind {
				lines = append(lines, line)
			}
		}
	}
	lines = append(lines, recoveryKeyKind+" "+name)
	b := []byte(strings.Join(lines, "\n") + "\n")
	return u.FS.WriteFile(RepoKeysFile, bytes.NewReader(b), int64(len(b)), time.Now())
}
