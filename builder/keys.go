package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/internal/killpoint"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/repo"
)

// slotOf returns the keyslot of a kind in the manifest, or -1.
func slotOf(m *kit.Manifest, kind string) int {
	if i := slices.IndexFunc(m.Keyslots, func(k kit.Keyslot) bool { return k.Kind == kind }); i >= 0 {
		return m.Keyslots[i].Slot
	}
	return -1
}

// PassphraseKeyslot is the keyslot ChangePassphrase replaces; the new passphrase gets its
// key derivation cost (memory, passes, lanes), so a new passphrase can be judged against
// that cost before anything changes.
func (s *Session) PassphraseKeyslot() (luks.KeyslotInfo, error) {
	slot := slotOf(s.base().Manifest, kit.KeyslotPassphrase)
	if slot < 0 {
		slot = 0
	}
	for _, k := range s.U.Container.Keyslots() {
		if k.ID == slot {
			return k, nil
		}
	}
	return luks.KeyslotInfo{}, fmt.Errorf("keyslot %d is not in the header", slot)
}

// pbkdfOf returns the key derivation of a keyslot, to give a new keyslot the same
// (already calibrated) costs.
func pbkdfOf(c *luks.Container, slot int) (luks.PBKDF, error) {
	for _, k := range c.Keyslots() {
		if k.ID == slot {
			return k.PBKDF, nil
		}
	}
	return luks.PBKDF{}, fmt.Errorf("keyslot %d: %w", slot, luks.ErrNoSuchKeyslot)
}

// ChangePassphrase gives the kit passphrase's keyslot (0) a new passphrase, with the
// volume key of whatever unlocked the kit. The header backups are written anew (the old
// ones keep the old passphrase's keyslot), on the tools partition, in the trusted state,
// and escrow/luks-header.age also into escrowDir when given.
func (s *Session) ChangePassphrase(ctx context.Context, newPass []byte, escrowDir string) (*ChangeResult, error) {
	settled, err := s.settle(ctx)
	if err != nil {
		return nil, err
	}
	base := s.base()
	c := s.U.Container
	slot := slotOf(base.Manifest, kit.KeyslotPassphrase)
	if slot < 0 {
		slot = 0
	}
	p, err := pbkdfOf(c, slot)
	if err != nil {
		return nil, err
	}
	// Everything that could refuse is done before the first change.
	st, err := s.stage(base)
	if err != nil {
		return nil, err
	}
	defer st.remove()

	killpoint.Here("passphrase: begin")
	if err := c.ReplaceKeyslot(s.U.Key, slot, newPass, p); err != nil {
		return nil, fmt.Errorf("changing the passphrase: %w", err)
	}
	killpoint.Here("passphrase: keyslot replaced")
	m := cloneManifest(base.Manifest)
	m.ToolsWritten = s.Now
	res, err := s.rewrite(ctx, m, st.tools(), st.wraps)
	if err != nil {
		return nil, err
	}
	// The old escrowed header backup keeps the old passphrase's keyslot: replace it.
	if escrowDir != "" && res.headers[kit.EscrowHeaderBackupPath] != nil {
		if res.EscrowFiles, err = writeEscrowDir(escrowDir, nil, nil, res.headers[kit.EscrowHeaderBackupPath]); err != nil {
			return nil, err
		}
	}
	res.addNotes(settled)
	return res, nil
}

// RotateOptions are the choices of RotateRecovery.
type RotateOptions struct {
	// Escrow is the new escrow list and threshold (a profile's [[escrow]] and [keys]
	// escrow_threshold); nil keeps the kit's.
	Escrow *Config
	// SaveKey receives the new recovery key before any keyslot changes (written to
	// --recovery-key-file, or shown): an error stops the rotation with nothing changed.
	SaveKey func(key string) error
	// EscrowDir receives the new escrow files and header backup (<name>.age,
	// luks-header.age), each replaced atomically.
	EscrowDir string
}

// RotateRecovery makes a new recovery key in a new keyslot, escrows it to the escrow list
// and threshold, and only then removes the old recovery keyslot; the repository key made
// for the old recovery key is replaced. Each step is atomic, so an interruption leaves the
// kit opening with the old secrets (passphrase, recovery key, escrow files) or the new
// ones.
func (s *Session) RotateRecovery(ctx context.Context, o RotateOptions) (*ChangeResult, error) {
	settled, err := s.settle(ctx)
	if err != nil {
		return nil, err
	}
	base := s.base()
	c := s.U.Container
	cfg := o.Escrow
	if cfg == nil {
		cfg = configOf(base.Manifest)
	}
	if err := cfg.checkEscrow(); err != nil {
		return nil, err
	}
	oldSlot := slotOf(base.Manifest, kit.KeyslotRecoveryKey)
	costFrom := oldSlot
	if costFrom < 0 {
		costFrom = max(slotOf(base.Manifest, kit.KeyslotPassphrase), 0)
	}
	p, err := pbkdfOf(c, costFrom)
	if err != nil {
		return nil, err
	}
	newSlot := freeKeyslot(c)
	if newSlot < 0 {
		return nil, luks.ErrNoFreeKeyslot
	}
	st, err := s.stageCarried(base.Manifest)
	if err != nil {
		return nil, err
	}
	defer st.remove()
	newKey, err := kit.GenerateRecoveryKey()
	if err != nil {
		return nil, err
	}
	copies, err := cfg.escrowFiles(newKey)
	if err != nil {
		return nil, err
	}
	wraps, err := kit.NewHeaderWraps(newKey, kit.HeaderWrapsCount)
	if err != nil {
		return nil, err
	}
	if o.SaveKey == nil {
		return nil, errors.New("nowhere to save the new recovery key")
	}
	m := cloneManifest(base.Manifest)
	m.Escrow, m.EscrowThreshold = cfg.escrowEntries(), cfg.threshold()
	m.RecoveryKeyRotated, m.ToolsWritten = s.Now, s.Now
	m.Keyslots = slices.DeleteFunc(m.Keyslots, func(k kit.Keyslot) bool { return k.Kind == kit.KeyslotRecoveryKey })
	m.Keyslots = append(m.Keyslots, kit.Keyslot{Slot: newSlot, Kind: kit.KeyslotRecoveryKey})
	slices.SortFunc(m.Keyslots, func(a, b kit.Keyslot) int { return a.Slot - b.Slot })

	killpoint.Here("rotate: begin")
	// 1. The keyslot about to be added is recorded: if the rotation stops before step 4,
	// a later change removes it (its key never became the kit's).
	if err := s.U.SetPendingKeyslot(newSlot); err != nil {
		return nil, err
	}
	killpoint.Here("rotate: keyslot recorded")
	// 2. The new key is saved before it opens anything.
	if err := o.SaveKey(newKey); err != nil {
		return nil, err
	}
	killpoint.Here("rotate: new key saved")
	// 3. The new keyslot: now the old and the new recovery key both open the kit.
	if _, err := c.AddKeyslot(s.U.Key, []byte(newKey), newSlot, p); err != nil {
		return nil, fmt.Errorf("adding the new recovery key: %w", err)
	}
	killpoint.Here("rotate: new keyslot added")
	retireRepo, repoNote, err := s.addRepoKey(ctx, newKey)
	if err != nil {
		return nil, err
	}
	var notes []i18n.Message
	if repoNote.Key != "" {
		notes = append(notes, repoNote)
	}
	killpoint.Here("rotate: repository key added")
	// 4. The new state is described inside the volume, with what it retires: from here
	// on, an interruption is completed forward by the next refresh.
	s.RecoveryKey = newKey
	next, err := s.prepare(m, &toolsSet{Copies: copies, Extra: st.carried}, wraps)
	if err != nil {
		return nil, err
	}
	if oldSlot >= 0 {
		next.state.Retire = []int{oldSlot}
	}
	next.state.RetireRepoKeys = retireRepo
	if err := s.U.WritePending(next.state, s.Now); err != nil {
		return nil, err
	}
	s.pending = next.state
	killpoint.Here("rotate: pending written")
	// 5. The new escrow files reach the hand-over folder while the old key still opens:
	// each file is replaced atomically, and old and new files each combine to a key that
	// opens the kit.
	var escrowFiles []string
	if o.EscrowDir != "" && len(cfg.Escrow) > 0 {
		if escrowFiles, err = writeEscrowDir(o.EscrowDir, copies, cfg.escrowNames(), nil); err != nil {
			return nil, err
		}
	}
	killpoint.Here("rotate: escrow files written")
	// 6. Only now the old recovery keyslot goes, with its repository key.
	if oldSlot >= 0 {
		if err := c.RemoveKeyslot(oldSlot, false); err != nil && !errors.Is(err, luks.ErrNoSuchKeyslot) {
			return nil, fmt.Errorf("removing the old recovery keyslot %d: %w", oldSlot, err)
		}
	}
	killpoint.Here("rotate: old keyslot removed")
	if err := s.removeRepoKeys(ctx, retireRepo); err != nil {
		return nil, err
	}
	// 7. The tools partition (header backups of the header as it is now) and the trusted
	// copy; the rest of the wraps made above.
	res, err := s.rewrite(ctx, m, &toolsSet{Copies: copies, Extra: st.carried}, next.state.Wraps)
	if err != nil {
		return nil, err
	}
	// 8. The escrowed header backup for hand-over (the old one holds the old keyslots).
	if o.EscrowDir != "" && res.headers[kit.EscrowHeaderBackupPath] != nil {
		hb, err := writeEscrowDir(o.EscrowDir, nil, nil, res.headers[kit.EscrowHeaderBackupPath])
		if err != nil {
			return nil, err
		}
		escrowFiles = append(escrowFiles, hb...)
	}
	if o.EscrowDir != "" {
		notes = append(notes, removeStaleEscrow(o.EscrowDir, base.Manifest, cfg)...)
	}
	killpoint.Here("rotate: done")
	res.EscrowFiles = escrowFiles
	res.addNotes(slices.Concat(settled, notes))
	return res, nil
}

// freeKeyslot is the lowest keyslot number not in use, or -1.
func freeKeyslot(c *luks.Container) int {
	used := map[int]bool{}
	for _, k := range c.Keyslots() {
		used[k.ID] = true
	}
	for i := 0; i < luks.MaxKeyslots; i++ {
		if !used[i] {
			return i
		}
	}
	return -1
}

// configOf is the escrow of a manifest, as a Config.
func configOf(m *kit.Manifest) *Config {
	c := &Config{Name: m.KitID, RecoveryKey: true, EscrowThreshold: m.EscrowThreshold, Languages: m.Languages, Platforms: m.Platforms}
	for _, e := range m.Escrow {
		c.Escrow = append(c.Escrow, Escrow{Name: e.Name, Recipient: e.Recipient})
	}
	return c
}

// removeStaleEscrow deletes from the hand-over folder the escrow files of colleagues no
// longer on the list: they hold the old key (or a share of it), which opens nothing now.
func removeStaleEscrow(dir string, old *kit.Manifest, cfg *Config) []i18n.Message {
	keep := map[string]bool{}
	for _, e := range cfg.Escrow {
		keep[e.Name] = true
	}
	var notes []i18n.Message
	for _, e := range old.Escrow {
		if keep[e.Name] {
			continue
		}
		p := filepath.Join(dir, e.Name+".age")
		if err := os.Remove(p); err == nil {
			notes = append(notes, i18n.M("cli.change.note_stale_escrow", p))
		}
	}
	return notes
}

// kitRepo opens the kit's own repository, or returns nil when it has none yet: with the
// master key kept in the volume (drive.OpenKeptRepository: no scrypt) when it opens it,
// else with the kit's repository password, then keeping the key (best effort).
func (s *Session) kitRepo(ctx context.Context) (*repo.Repository, error) {
	st := s.U.RepoStorage()
	if r, err := s.U.OpenKeptRepository(ctx, st); err == nil {
		return r, nil
	}
	pw, err := s.U.FS.ReadFile(drive.RepoPassword)
	if err != nil {
		return nil, nil
	}
	defer clear(pw)
	r, err := repo.Open(ctx, st, bytes.TrimSpace(pw))
	if errors.Is(err, repo.ErrNoRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening the kit's repository: %w", err)
	}
	_ = s.U.KeepRepositoryKey(r)
	return r, nil
}

// addRepoKey gives the repository a key for the new recovery key when it had one for
// the old (made by `travelkit remote add`, so that an off-site copy opens with the
// recovery key), and returns the names of the old key files to retire. The old key is found
// by trying the old recovery key when it is known, otherwise by the name recorded when it
// was made.
func (s *Session) addRepoKey(ctx context.Context, newKey string) ([]string, i18n.Message, error) {
	r, err := s.kitRepo(ctx)
	if r == nil || err != nil {
		return nil, i18n.Message{}, err
	}
	// The old recovery key's key file: the one recorded for it is tried first, and the
	// kit's own password's is not tried (a recovery key is not that password).
	recorded, _ := drive.RecoveryRepoKey(s.U)
	var old []string
	if s.RecoveryKey != "" {
		h := repo.KeyHints{First: recorded}
		if own, ok := s.U.OwnRepoKey(r); ok {
			defer clear(own.Password)
			h.Known = []repo.KnownKey{own}
		}
		if n, err := r.KeyFor(ctx, []byte(s.RecoveryKey), h); err == nil {
			old = append(old, n)
		}
	}
	if recorded != "" && !slices.Contains(old, recorded) {
		old = append(old, recorded)
	}
	if len(old) == 0 {
		return nil, i18n.Message{}, nil
	}
	// The new key was just made at random: no key file opens with it yet, so none is
	// tried before its own is made (one derivation).
	name, _, err := r.AddKey(ctx, []byte(newKey), repo.KeyHints{Fresh: true})
	if err != nil {
		return nil, i18n.Message{}, fmt.Errorf("adding a repository key for the new recovery key: %w", err)
	}
	if err := drive.SetRecoveryRepoKey(s.U, name); err != nil {
		return nil, i18n.Message{}, err
	}
	old = slices.DeleteFunc(old, func(n string) bool { return n == name })
	return old, i18n.M("cli.change.note_repo_key", "travelkit copy"), nil
}

// removeRepoKeys removes repository key files (those of retired secrets).
func (s *Session) removeRepoKeys(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	r, err := s.kitRepo(ctx)
	if r == nil || err != nil {
		return err
	}
	for _, n := range names {
		if err := r.RemoveKey(ctx, n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the old recovery key's repository key %s: %w", n[:min(8, len(n))], err)
		}
	}
	return nil
}
