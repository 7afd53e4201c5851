package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"travelkit/boot"
	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/image/fat32"
	"travelkit/internal/bytesize"
	"travelkit/internal/killpoint"
	"travelkit/internal/version"
	"travelkit/kit"
)

// A Session is a kit unlocked for writing, for a change of its tools (Refresh) or its keys
// (ChangePassphrase, RotateRecovery). Every change follows one order, so that an
// interruption at any point leaves a kit that opens with the old secrets or the new ones:
//
//  1. keyslot changes, each one atomic in the LUKS2 header (a new keyslot is added before
//     an old one is removed);
//  2. the next trusted state into travelkit/pending/ inside the volume;
//  3. the tools partition rewritten (boot sector cleared first, written last);
//  4. the trusted state committed (travelkit/manifest.json, SHA256SUMS, tools/), pending/
//     removed.
//
// A change interrupted after 2 is completed by Refresh, which starts from pending/.
type Session struct {
	Drive *drive.Drive
	U     *drive.Unlocked // opened writable
	// RecoveryKey is the recovery key when it is known (the kit was unlocked with it, or
	// with escrow files that rebuild it), or "".
	RecoveryKey string
	Now         time.Time
	Progress    Progress

	current, pending *drive.State
	// resumed: settle found an interrupted change that took effect, and the change under
	// way completes it (ChangeResult.Completed). Not s.pending at rewrite time: a rotation
	// writes its own pending state before its rewrite.
	resumed bool
}

// NewSession reads the kit's trusted state. u must be writable.
func NewSession(d *drive.Drive, u *drive.Unlocked, recoveryKey string, now time.Time) (*Session, error) {
	if u.Key == nil {
		return nil, errors.New("the kit was unlocked without its volume key")
	}
	s := &Session{Drive: d, U: u, RecoveryKey: recoveryKey, Now: now.UTC().Truncate(time.Second)}
	var err error
	if s.current, s.pending, err = u.ReadState(); err != nil {
		return nil, err
	}
	if s.Now.IsZero() {
		s.Now = time.Now().UTC().Truncate(time.Second)
	}
	return s, nil
}

// Interrupted reports whether an earlier change was interrupted (a pending state exists).
func (s *Session) Interrupted() bool { return s.pending != nil }

// Manifest is the kit's manifest as the trusted state has it (the pending one when a change
// was interrupted).
func (s *Session) Manifest() *kit.Manifest { return s.base().Manifest }

// base is the state a new change starts from: an interrupted change's, or the current one.
func (s *Session) base() *drive.State {
	if s.pending != nil {
		return s.pending
	}
	return s.current
}

func (s *Session) prog() Progress {
	if s.Progress == nil {
		return func(string, int64, int64) {}
	}
	return s.Progress
}

// cloneManifest copies a manifest deeply enough to change it.
func cloneManifest(m *kit.Manifest) *kit.Manifest {
	c := *m
	c.Keyslots = slices.Clone(m.Keyslots)
	c.Escrow = slices.Clone(m.Escrow)
	c.Languages = slices.Clone(m.Languages)
	c.Platforms = slices.Clone(m.Platforms)
	c.Files = nil
	return &c
}

func cloneCopies(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ChangeResult says what a change did.
type ChangeResult struct {
	KitID       string        `json:"kit_id"`
	LUKSUUID    string        `json:"luks_uuid"`
	Version     string        `json:"travelkit_version"`
	Keyslots    []kit.Keyslot `json:"keyslots"`
	Files       int           `json:"files"`
	Bootable    bool          `json:"bootable"` // the tools partition holds the boot files
	EscrowFiles []string      `json:"escrow_files,omitempty"`
	Completed   bool          `json:"completed_interrupted_change,omitempty"`
	Notes       []string      `json:"notes,omitempty"` // in English
	// NoteMessages are the Notes, for any language.
	NoteMessages []i18n.Message `json:"-"`
	Manifest     *kit.Manifest  `json:"-"`
	headers      map[string][]byte
}

// addNotes puts notes before and after the result's own, in NoteMessages and in Notes.
func (r *ChangeResult) addNotes(before []i18n.Message, after ...i18n.Message) {
	r.NoteMessages = slices.Concat(before, r.NoteMessages, after)
	en := i18n.New("en")
	r.Notes = nil
	for _, m := range r.NoteMessages {
		r.Notes = append(r.Notes, m.In(en))
	}
}

// commit writes the next state: pending/, the tools partition, then the current copy.
func (s *Session) commit(ctx context.Context, st *drive.State, files []File) error {
	killpoint.Here("commit: begin")
	if err := s.U.WritePending(st, s.Now); err != nil {
		return err
	}
	killpoint.Here("commit: pending written")
	if ctx.Err() != nil {
		return errInterrupted
	}
	tools := s.Drive.Tools
	if err := writeTools(ctx, tools, files, st.Manifest.ToolsWritten, s.prog()); err != nil {
		return err
	}
	killpoint.Here("commit: tools written")
	if err := s.U.CommitState(st, s.Now); err != nil {
		return err
	}
	killpoint.Here("commit: done")
	s.current, s.pending = st, nil
	return nil
}

// RefreshOptions are the choices of Refresh.
type RefreshOptions struct {
	BinaryDirs []string // where the binaries are found (default: DefaultBinaryDirs)
	// Profile, when given, sets the languages, platforms and escrow names of the pages;
	// otherwise they come from the manifest.
	Profile *Config
	// BootDir is the boot bundle folder (--boot); empty: looked for beside the binaries and
	// in ./dist, else the kit's own bundle is carried on (with a new initramfs). The
	// profile's [boot] table, when a profile is given, turns it off or requires it.
	BootDir string
	Extra   []File // more files to carry
	// EscrowDir, when given, receives the kit's escrow files and escrowed header backup
	// again (after an interrupted rotation, for hand-over).
	EscrowDir string
}

// Refresh rewrites the tools partition with the running travelkit: binaries for the kit's
// platforms, RESTORE pages, the escrow files and header backups (from the trusted state),
// the manifest and SHA256SUMS, and the trusted copy. The repository is not touched. An
// interrupted change is completed.
func (s *Session) Refresh(ctx context.Context, o RefreshOptions) (*ChangeResult, error) {
	settled, err := s.settle(ctx)
	if err != nil {
		return nil, err
	}
	base := s.base()
	m := cloneManifest(base.Manifest)
	m.Version, m.ToolsWritten = version.Version, s.Now
	if o.Profile != nil {
		if len(o.Profile.Languages) > 0 {
			m.Languages = slices.Clone(o.Profile.Languages)
		}
		if len(o.Profile.Platforms) > 0 {
			m.Platforms = slices.Clone(o.Profile.Platforms)
		}
	}
	platforms := m.Platforms
	if len(platforms) == 0 {
		platforms = kit.Platforms()
	}
	dirs := o.BinaryDirs
	if len(dirs) == 0 {
		dirs = DefaultBinaryDirs()
	}
	bins, err := FindBinaries(platforms, dirs)
	if err != nil {
		return nil, err
	}
	copies, wraps, notes, err := s.copies(base)
	if err != nil {
		return nil, err
	}
	dir, err := stagingDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bootFiles, bootNote, err := s.refreshBoot(o, base.Manifest, m, bins, dirs, dir)
	if err != nil {
		return nil, err
	}
	res, err := s.rewrite(ctx, m, &toolsSet{Binaries: bins, Copies: copies, Extra: slices.Concat(o.Extra, bootFiles)}, wraps)
	if err != nil {
		return nil, err
	}
	if bootNote.Key != "" {
		res.addNotes(slices.Concat(settled, notes), bootNote)
	} else {
		res.addNotes(slices.Concat(settled, notes))
	}
	if o.EscrowDir != "" && len(res.Manifest.Escrow) > 0 {
		var names []string
		for _, e := range res.Manifest.Escrow {
			names = append(names, e.Name)
		}
		if res.EscrowFiles, err = writeEscrowDir(o.EscrowDir, copies, names, res.headers[kit.EscrowHeaderBackupPath]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// prepared is a next state ready to be written: the files of the tools partition and the
// trusted state describing them.
type prepared struct {
	files   []File
	state   *drive.State
	headers map[string][]byte
	notes   []i18n.Message
}

// prepare fills in the pages and the header backups (of the header as it is now, one wrap
// used) and describes the next state. Nothing is written.
func (s *Session) prepare(m *kit.Manifest, t *toolsSet, wraps []kit.HeaderWrap) (*prepared, error) {
	info := restoreInfoOf(m)
	info.Boot = bootable(t.Extra)
	pages, err := kit.RestorePages(info)
	if err != nil {
		return nil, err
	}
	var notes []i18n.Message
	if len(wraps) < minHeaderWraps && s.RecoveryKey != "" {
		more, err := kit.NewHeaderWraps(s.RecoveryKey, kit.HeaderWrapsCount-len(wraps))
		if err != nil {
			return nil, err
		}
		wraps = append(slices.Clone(wraps), more...)
	}
	if len(wraps) == 0 && hasRecoverySlot(m) {
		notes = append(notes, i18n.M("cli.change.note_no_header_backup", kit.HeaderBackupPath, "--recovery-key-file"))
	}
	headers, wraps, err := headerFiles(s.U.Container, escrowRecipients(m), wraps)
	if err != nil {
		return nil, err
	}
	t.Manifest, t.Pages, t.Headers = m, pages, headers
	files, _, _, err := t.files()
	if err != nil {
		return nil, err
	}
	if err := s.checkRoom(files, drive.ToolsTime(m)); err != nil {
		return nil, err
	}
	st, err := drive.NewState(m, t.Copies, wraps)
	if err != nil {
		return nil, err
	}
	return &prepared{files: files, state: st, headers: headers, notes: notes}, nil
}

// rewrite prepares the next state and writes it: pending/, the tools partition, the
// trusted copy.
func (s *Session) rewrite(ctx context.Context, m *kit.Manifest, t *toolsSet, wraps []kit.HeaderWrap) (*ChangeResult, error) {
	p, err := s.prepare(m, t, wraps)
	if err != nil {
		return nil, err
	}
	completed := s.resumed
	if err := s.commit(ctx, p.state, p.files); err != nil {
		return nil, err
	}
	res := &ChangeResult{KitID: m.KitID, LUKSUUID: m.LUKSUUID, Version: m.Version, Keyslots: m.Keyslots,
		Files: len(p.files), Bootable: bootable(t.Extra), Completed: completed, Manifest: m, headers: p.headers}
	res.addNotes(p.notes)
	return res, nil
}

// settle finishes what an interrupted change left, before a new change starts:
//   - a pending state whose keyslots all exist took effect: the keyslots and repository
//     keys of the old secrets it retires are removed (it stays the base of the change,
//     which writes the tools partition and commits it);
//   - a pending state whose keyslots do not all exist never took effect: it is dropped;
//   - a keyslot a rotation was about to add, that no state lists, is removed: its key
//     never became the kit's.
func (s *Session) settle(ctx context.Context) ([]i18n.Message, error) {
	c := s.U.Container
	exists := map[int]bool{}
	for _, k := range c.Keyslots() {
		exists[k.ID] = true
	}
	var notes []i18n.Message
	if p := s.pending; p != nil {
		took := true
		for _, k := range p.Manifest.Keyslots {
			if !exists[k.Slot] {
				took = false
			}
		}
		if !took {
			if err := s.U.DiscardPending(); err != nil {
				return nil, err
			}
			s.pending = nil
			notes = append(notes, i18n.M("cli.change.note_dropped"))
		} else {
			for _, k := range p.Retire {
				if exists[k] && !slices.ContainsFunc(p.Manifest.Keyslots, func(x kit.Keyslot) bool { return x.Slot == k }) {
					if err := c.RemoveKeyslot(k, false); err != nil {
						return nil, fmt.Errorf("completing an interrupted change: removing keyslot %d: %w", k, err)
					}
					delete(exists, k)
					notes = append(notes, i18n.M("cli.change.note_completed", k))
				}
			}
			if err := s.removeRepoKeys(ctx, p.RetireRepoKeys); err != nil {
				return nil, err
			}
		}
	}
	s.resumed = s.pending != nil
	if k := s.U.PendingKeyslot(); k >= 0 {
		listed := slices.ContainsFunc(s.base().Manifest.Keyslots, func(x kit.Keyslot) bool { return x.Slot == k })
		if exists[k] && !listed {
			if err := c.RemoveKeyslot(k, false); err != nil {
				return nil, fmt.Errorf("removing keyslot %d left by an interrupted rotation: %w", k, err)
			}
			notes = append(notes, i18n.M("cli.change.note_unused_key", k))
		}
		if s.pending == nil {
			if err := s.U.ClearPendingKeyslot(); err != nil {
				return nil, err
			}
		}
	}
	return notes, nil
}

// minHeaderWraps: below this many wraps, a session that knows the recovery key makes
// more.
const minHeaderWraps = 16

// checkRoom refuses a file set that does not fit on the tools partition, before anything
// is written: the FAT32 layout drive.WriteTools would write is worked out without writing.
func (s *Session) checkRoom(files []File, when time.Time) error {
	tf := make([]drive.ToolsFile, 0, len(files))
	e := &ToolsFullError{Partition: s.Drive.Tools.Size()}
	for _, f := range files {
		tf = append(tf, drive.ToolsFile{Path: f.Path, Size: f.Size})
		e.Files += f.Size
		if isBootFile(f.Path) {
			e.Boot += f.Size
		}
	}
	if err := drive.ToolsFit(s.Drive.Tools, when, tf); err != nil {
		e.Err = err
		return e
	}
	return nil
}

// ToolsFullError: a change's files do not fit on the kit's tools partition. Nothing was
// changed.
type ToolsFullError struct {
	Partition int64 // bytes
	Files     int64 // bytes of the files
	Boot      int64 // of which the boot files
	Err       error // the FAT32 layout's
}

func (e *ToolsFullError) Error() string {
	boot := ""
	if e.Boot > 0 {
		boot = ", of which the boot files " + bytesize.FormatDecimal(e.Boot)
	}
	return fmt.Sprintf("the tools partition (%s) is too small for the kit's new files (%s%s): %v; nothing was changed",
		bytesize.FormatDecimal(e.Partition), bytesize.FormatDecimal(e.Files), boot, e.Err)
}

func (e *ToolsFullError) Unwrap() error { return e.Err }

// Hint says what the person can do.
func (e *ToolsFullError) Hint() string {
	h := "carry fewer platforms (--profile with fewer [tools] platforms)"
	if e.Boot > 0 {
		h += ", or leave the boot files out (--profile whose [boot] has enable = false)"
	}
	return h + "; a larger tools partition needs a new kit (travelkit build, [drive] tools_size)"
}

// restoreInfoOf describes the RESTORE pages of a kit from its manifest.
func restoreInfoOf(m *kit.Manifest) kit.RestoreInfo {
	info := kit.RestoreInfo{KitName: m.KitID, Created: m.Created, Platforms: m.Platforms, Languages: m.Languages, Threshold: m.EscrowThreshold, OffSite: m.OffSite}
	for _, e := range m.Escrow {
		info.Escrow = append(info.Escrow, e.Name)
	}
	for _, k := range m.Keyslots {
		if k.Kind == kit.KeyslotTPM2 {
			info.TPM = true
		}
	}
	// a kit built with a boot bundle carries it (Refresh and key changes carry it on)
	for _, f := range m.Files {
		if f.Path == boot.ShimPath {
			info.Boot = true
		}
	}
	return info
}

// copies returns the escrow files the next state carries: the trusted state's copies; for
// a kit built before they were kept, the tools partition's files, checked against the
// trusted manifest. And the state's recovery-key wraps.
func (s *Session) copies(base *drive.State) (map[string][]byte, []kit.HeaderWrap, []i18n.Message, error) {
	copies := cloneCopies(base.Copies)
	var fromTools []string
	for _, f := range base.Manifest.Files {
		if drive.CopiedPath(f.Path) && copies[f.Path] == nil {
			fromTools = append(fromTools, f.Path)
		}
	}
	if len(fromTools) > 0 {
		fs, err := s.Drive.ToolsFS()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("the escrow files are only on the tools partition, which cannot be read: %w", err)
		}
		for _, p := range fromTools {
			b, err := fs.ReadFile(p, kit.MaxEscrowSize)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s is neither inside the volume nor readable on the tools partition (%v): make new escrow files with travelkit keys rotate-recovery", p, err)
			}
			if !sameHash(base.Manifest, p, b) {
				return nil, nil, nil, fmt.Errorf("%s on the tools partition differs from the trusted manifest: make new escrow files with travelkit keys rotate-recovery", p)
			}
			copies[p] = b
		}
	}
	return copies, slices.Clone(base.Wraps), nil, nil
}

func hasPath(m map[string][]byte, p string) bool { _, ok := m[p]; return ok }

func hasRecoverySlot(m *kit.Manifest) bool {
	return slices.ContainsFunc(m.Keyslots, func(k kit.Keyslot) bool { return k.Kind == kit.KeyslotRecoveryKey })
}

func escrowRecipients(m *kit.Manifest) []string {
	var out []string
	for _, e := range m.Escrow {
		out = append(out, e.Recipient)
	}
	return out
}

func sameHash(m *kit.Manifest, p string, b []byte) bool {
	i := slices.IndexFunc(m.Files, func(f kit.File) bool { return f.Path == p })
	if i < 0 {
		return false
	}
	h := sha256.Sum256(b)
	return m.Files[i].SHA256 == hex.EncodeToString(h[:])
}

// carried stages the files a key change keeps as they are (binaries, the boot bundle):
// each is copied from the tools partition into dir and checked against the trusted
// manifest on the way, so that a file replaced behind the kit's back is never carried on.
// Pages, escrow files (from the trusted state), header backups and the manifest pair are
// made anew.
func (s *Session) carried(m *kit.Manifest, dir string) ([]File, error) {
	fs, err := s.Drive.ToolsFS()
	if err != nil {
		return nil, fmt.Errorf("the tools partition cannot be read (%v): run travelkit refresh first", err)
	}
	var out []File
	for i, f := range m.Files {
		if drive.CopiedPath(f.Path) || isPage(f.Path) || f.Path == kit.HeaderBackupPath || f.Path == kit.EscrowHeaderBackupPath {
			continue
		}
		dst := filepath.Join(dir, fmt.Sprintf("%04d", i))
		switch err := stageFile(fs, f, dst); {
		case errors.Is(err, errMissing):
			return nil, fmt.Errorf("%s is missing from the tools partition: run travelkit refresh first", f.Path)
		case errors.Is(err, errDiffers):
			return nil, fmt.Errorf("%s on the tools partition differs from the trusted manifest: run travelkit verify, then travelkit refresh", f.Path)
		case err != nil:
			return nil, fmt.Errorf("copying %s from the tools partition: %w", f.Path, err)
		}
		out = append(out, File{Path: f.Path, Size: f.Size, Source: dst})
	}
	return out, nil
}

var (
	errMissing = errors.New("missing from the tools partition")
	errDiffers = errors.New("differs from the trusted manifest")
)

// stageFile copies f from the tools partition to the new file dst, checking its size and
// sha256 against f (from the trusted manifest) on the way: errMissing, errDiffers.
func stageFile(fs *fat32.FS, f kit.File, dst string) error {
	r, n, err := fs.Open(f.Path)
	if err != nil {
		return errMissing
	}
	if n != f.Size {
		return errDiffers
	}
	h := sha256.New()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.MultiWriter(w, h), io.LimitReader(r, f.Size))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return errDiffers
	}
	return nil
}

func isPage(p string) bool {
	return strings.HasPrefix(p, "RESTORE.") && (strings.HasSuffix(p, ".txt") || strings.HasSuffix(p, ".html"))
}
