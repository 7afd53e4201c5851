package builder

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"travelkit/drive"
	"travelkit/image"
	"travelkit/image/ext4"
	"travelkit/image/gpt"
	"travelkit/internal/durable"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/repo"
	"travelkit/target"
	"travelkit/tpm"
	"travelkit/tpmbind"
)

// Progress reports a stage's progress: done of total bytes (total 0: no measure).
type Progress func(stage string, done, total int64)

// BuildOptions are the build's secrets and choices.
type BuildOptions struct {
	Passphrase []byte // keyslot 0
	Wipe       bool   // fill the data partition with random bytes first
	EscrowDir  string // also write DIR/<name>.age
	Progress   Progress
	// TPM, when set, binds the kit to a TPM2 (the profile's [tpm] enroll) with the volume
	// key the build holds, once the kit is complete.
	TPM *TPMEnrolment
}

// TPMEnrolment binds a new kit to a TPM2 at the end of the build.
type TPMEnrolment struct {
	// Prepare is called once the kit is complete: it opens the TPM, checks that it can
	// seal to the PCRs, and gets the PIN. The builder closes the TPM and clears the PIN.
	Prepare func() (*tpm.TPM, tpm.SealOptions, error)
}

// TPMError says that the kit was built, complete and usable, but binding it to the TPM
// failed: Build returns it together with the Result.
type TPMError struct{ Err error }

func (e *TPMError) Error() string { return "binding the kit to the TPM: " + e.Err.Error() }
func (e *TPMError) Unwrap() error { return e.Err }

// Result is what the person must be told, and what --json prints.
type Result struct {
	KitID       string        `json:"kit_id"`
	Target      string        `json:"target"`
	LUKSUUID    string        `json:"luks_uuid"`
	RecoveryKey string        `json:"-"` // shown once on the terminal, written to --recovery-key-file
	Keyslots    []kit.Keyslot `json:"keyslots"`
	EscrowFiles []string      `json:"escrow_files,omitempty"`
	// EscrowThreshold is k of the k-of-n escrow (0: each escrow file holds the whole key).
	EscrowThreshold int        `json:"escrow_threshold,omitempty"`
	Files           int        `json:"files"`
	Manifest        []byte     `json:"-"`
	TPMToken        *tpm.Token `json:"-"` // the systemd-tpm2 token of BuildOptions.TPM's binding
}

// errInterrupted is returned when ctx is cancelled during a build.
var errInterrupted = errors.New("build interrupted: the drive holds an unfinished kit, which verify reports as incomplete; build again")

// Build writes the planned kit. The partition table is written last: until then the drive
// does not look like a kit, so an interrupted build is never mistaken for a good one.
func Build(ctx context.Context, p *Plan, opt BuildOptions) (*Result, error) {
	if len(opt.Passphrase) == 0 {
		return nil, errors.New("no passphrase")
	}
	b := &building{ctx: ctx, p: p, opt: opt, prog: opt.Progress}
	if b.prog == nil {
		b.prog = func(string, int64, int64) {}
	}
	id := p.Target.Identity()
	create := int64(0)
	if p.Create {
		create = p.DiskSize
	}
	tg, err := target.Open(p.Target.Path, target.Options{Write: true, CreateSize: create, AllowFixed: p.AllowFixed, Expect: &id})
	if err != nil {
		return nil, err
	}
	// Every write that matters was synced (step 8); a failed close cannot lose them.
	defer tg.Close()
	b.tg = tg

	// 1. Remove the old partition tables (both GPT copies, the MBR): from now on until the
	// end the drive is not a kit.
	if err := b.clearTables(); err != nil {
		return nil, err
	}
	// 2. Optional random fill of the data partition.
	if opt.Wipe {
		if err := wipe(ctx, b.data, b.prog); err != nil {
			return nil, err
		}
	}
	if err := b.step(); err != nil {
		return nil, err
	}
	// 3. LUKS2 with the passphrase in keyslot 0, the recovery key in keyslot 1.
	if err := b.createVolume(); err != nil {
		return nil, err
	}
	defer b.vk.Wipe()
	if err := b.step(); err != nil {
		return nil, err
	}
	// 4. ext4 inside the volume, with the backup repository in repo/ and its password and
	// master key in travelkit/. The repository comes before the tools content: its key
	// file's scrypt (a 32 MiB work area) is then not live beside the header backups
	// (16 MiB each) and escrow files the tools content holds until they are written.
	defer func() {
		if b.vol != nil {
			b.vol.Close() // wipes the key schedule; it returns no error
		}
	}()
	if err := b.createFilesystem(); err != nil {
		return nil, err
	}
	if err := b.step(); err != nil {
		return nil, err
	}
	// 5. Tools content: escrow files, the encrypted header backups, then the manifest
	// over everything; its trusted state (manifest copy, escrow file copies, recovery-key
	// wraps) into travelkit/ in the volume, which is then closed and flushed.
	toolset, state, err := p.toolsContent(b.c, b.res.RecoveryKey)
	if err != nil {
		return nil, err
	}
	files, manJSON, _, err := toolset.files()
	if err != nil {
		return nil, err
	}
	if state, err = drive.NewState(toolset.Manifest, state.Copies, state.Wraps); err != nil {
		return nil, err
	}
	b.res.Manifest = manJSON
	b.res.EscrowThreshold = toolset.Manifest.EscrowThreshold
	if err := b.finishFilesystem(state); err != nil {
		return nil, err
	}
	if err := b.step(); err != nil {
		return nil, err
	}
	// 6. The FAT32 tools partition, its time the manifest's ToolsWritten (= Created).
	if err := writeTools(ctx, b.tools, files, toolset.Manifest.ToolsWritten, b.prog); err != nil {
		return nil, err
	}
	b.res.Files = len(files)
	// 7. Escrow copies for handing over.
	if opt.EscrowDir != "" {
		if b.res.EscrowFiles, err = writeEscrowDir(opt.EscrowDir, toolset.Copies, p.Config.escrowNames(), toolset.Headers[kit.EscrowHeaderBackupPath]); err != nil {
			return nil, err
		}
	}
	// 8. Last: the partition table. Now the drive is a kit.
	if err := b.writeTable(); err != nil {
		return nil, err
	}
	// 9. The kit is complete; bind it to the TPM with the volume key in hand.
	if opt.TPM != nil {
		tok, err := enrolTPM(b.c, b.vk, opt.TPM, b.prog)
		if err == nil {
			err = tg.Sync()
		}
		if err != nil {
			return b.res, &TPMError{err}
		}
		b.res.TPMToken = tok
	}
	return b.res, nil
}

// building is a Build in progress: the target, its two partitions, and once created the
// LUKS2 volume and its key.
type building struct {
	ctx         context.Context
	p           *Plan
	opt         BuildOptions
	prog        Progress
	tg          *target.Target
	data, tools *image.Section
	c           *luks.Container
	vk          *luks.VolumeKey
	vol         *luks.Volume // from createFilesystem, closed by Build
	fs          *ext4.FS
	res         *Result
}

// step stops the build between steps when ctx is cancelled.
func (b *building) step() error {
	if b.ctx.Err() != nil {
		return errInterrupted
	}
	return nil
}

// clearTables zeroes the first and the last MiB of the disk (the MBR and both GPT copies)
// and finds the two partitions of the layout.
func (b *building) clearTables() error {
	p, l := b.p, b.p.Layout
	b.prog("clearing the old partition table", 0, 0)
	zero := make([]byte, 1<<20)
	if _, err := b.tg.WriteAt(zero, 0); err != nil {
		return fmt.Errorf("writing to %s: %w", p.Target.Path, err)
	}
	if _, err := b.tg.WriteAt(zero, p.DiskSize-int64(len(zero))); err != nil {
		return fmt.Errorf("writing to %s: %w", p.Target.Path, err)
	}
	if err := b.tg.Sync(); err != nil {
		return err
	}
	var err error
	if b.data, err = image.NewSection(b.tg, l.DataOff, l.DataSize); err != nil {
		return err
	}
	b.tools, err = image.NewSection(b.tg, l.ToolsOff, l.ToolsSize)
	return err
}

// createVolume formats the data partition as LUKS2 with the passphrase in keyslot 0 and
// adds the recovery key in keyslot 1. The caller wipes b.vk.
func (b *building) createVolume() error {
	p := b.p
	b.prog("creating the encrypted volume (key derivation)", 0, 0)
	lo := p.Config.LUKS
	lo.Label = p.Config.Name
	lo.Keyslot = 0
	c, vk, err := luks.Format(b.data, p.Layout.DataSize, b.opt.Passphrase, lo)
	if err != nil {
		return fmt.Errorf("creating the LUKS2 volume: %w", err)
	}
	b.c, b.vk = c, vk
	b.res = &Result{KitID: p.Config.Name, Target: p.Target.Path, LUKSUUID: c.UUID(), Keyslots: p.Keyslots}
	if p.Config.RecoveryKey {
		b.prog("adding the recovery key", 0, 0)
		if b.res.RecoveryKey, err = kit.GenerateRecoveryKey(); err != nil {
			return err
		}
		// Same costs as keyslot 0, already calibrated: no second calibration.
		if _, err := c.AddKeyslot(vk, []byte(b.res.RecoveryKey), 1, c.Keyslots()[0].PBKDF); err != nil {
			return fmt.Errorf("adding the recovery key: %w", err)
		}
	}
	return nil
}

// createFilesystem makes ext4 in the volume with the backup repository's password and
// the repository itself (empty, in repo/), whose master key it keeps
// (drive.RepoMasterKey: the kit's first command then opens it without the key file's
// scrypt and without the rest of the volume key digest). The volume and the filesystem
// stay open (b.vol, b.fs) for finishFilesystem; Build closes b.vol.
func (b *building) createFilesystem() error {
	p := b.p
	b.prog("creating the encrypted filesystem", 0, 0)
	vol, err := b.c.OpenVolume(b.vk)
	if err != nil {
		return err
	}
	b.vol = vol
	label := p.Config.Name
	if len(label) > 16 {
		label = label[:16]
	}
	if err := ext4.Format(vol, ext4.FormatOptions{Label: label, Time: p.Created}); err != nil {
		return fmt.Errorf("creating ext4 in the encrypted volume: %w", err)
	}
	fs, err := ext4.Open(vol, ext4.Options{Writable: true})
	if err != nil {
		return err
	}
	b.fs = fs
	repoPass := make([]byte, 32)
	if _, err := rand.Read(repoPass); err != nil {
		return err
	}
	pw := []byte(hex.EncodeToString(repoPass))
	clear(repoPass)
	defer clear(pw)
	for _, d := range []string{drive.RepoDir, drive.MetaDir} {
		if err := fs.MkdirAll(d); err != nil {
			return err
		}
	}
	u := &drive.Unlocked{Container: b.c, Volume: vol, FS: fs, Writable: true}
	if err := fs.WriteFile(drive.RepoPassword, bytes.NewReader(pw), int64(len(pw)), p.Created); err != nil {
		return fmt.Errorf("writing %s in the encrypted volume: %w", drive.RepoPassword, err)
	}
	// the repository, made here rather than at the first backup: the key file's scrypt
	// is paid once, now, and its master key kept beside the password
	// the key file's scrypt takes 32 MiB: give back what the stages before left (freed,
	// still resident: the LUKS key derivation's) before, and the work area after, so
	// that the build's peak RSS stays near where it was without the repository
	debug.FreeOSMemory()
	r, err := repo.InitAnonymous(b.ctx, u.RepoStorage(), pw)
	debug.FreeOSMemory()
	if err != nil {
		if serr := b.step(); serr != nil {
			return serr
		}
		return fmt.Errorf("creating the backup repository in the encrypted volume: %w", err)
	}
	if err := u.KeepRepositoryKey(r); err != nil {
		return fmt.Errorf("keeping the backup repository's key in the encrypted volume: %w", err)
	}
	return nil
}

// finishFilesystem writes the trusted state into the filesystem createFilesystem made,
// closes it and flushes the volume.
func (b *building) finishFilesystem(state *drive.State) error {
	u := &drive.Unlocked{Container: b.c, Volume: b.vol, FS: b.fs, Writable: true}
	if err := u.CommitState(state, b.p.Created); err != nil {
		return err
	}
	if err := b.fs.Close(); err != nil {
		return err
	}
	return b.vol.Flush()
}

// writeTable writes the partition table, between two syncs: what it points at is durable
// before it, and it is durable before the build says the kit is done.
func (b *building) writeTable() error {
	if err := b.tg.Sync(); err != nil {
		return err
	}
	if err := b.step(); err != nil {
		return err
	}
	b.prog("writing the partition table", 0, 0)
	if err := gpt.Write(b.tg, b.p.Layout.Table); err != nil {
		return fmt.Errorf("writing the partition table: %w", err)
	}
	return b.tg.Sync()
}

// enrolTPM adds the TPM2 binding of a kit being built.
func enrolTPM(c *luks.Container, vk *luks.VolumeKey, e *TPMEnrolment, prog Progress) (*tpm.Token, error) {
	t, opts, err := e.Prepare()
	if err != nil {
		return nil, err
	}
	defer t.Close() // a TPM connection: nothing of the kit depends on closing it cleanly
	defer clear(opts.PIN)
	prog("binding the kit to the TPM", 0, 0)
	_, sealed, err := tpmbind.Enrol(c, vk, t, opts)
	if err != nil {
		return nil, err
	}
	return sealed.Token, nil
}

// open returns a reader of the file's content.
func (f File) open() (io.Reader, func(), error) {
	if f.Source == "" {
		return bytes.NewReader(f.data), func() {}, nil
	}
	h, err := os.Open(f.Source)
	if err != nil {
		return nil, nil, err
	}
	st, err := h.Stat()
	if err != nil || st.Size() != f.Size {
		h.Close() // opened for reading: nothing to lose
		return nil, nil, fmt.Errorf("%s changed since the plan", f.Source)
	}
	return io.LimitReader(h, f.Size), func() { h.Close() }, nil
}

// wipe fills the device with random bytes: AES-CTR under a random key, fast enough to be
// limited by the drive.
func wipe(ctx context.Context, dev image.Device, prog Progress) error {
	key := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	rand.Read(key) // crypto/rand never fails (Go 1.24: it crashes the program instead)
	rand.Read(iv)
	b, _ := aes.NewCipher(key) // fails only for a key size other than 16, 24 or 32
	clear(key)
	s := cipher.NewCTR(b, iv)
	buf := make([]byte, 4<<20)
	size := dev.Size()
	for off := int64(0); off < size; off += int64(len(buf)) {
		if ctx.Err() != nil {
			return errInterrupted
		}
		n := min(int64(len(buf)), size-off)
		clear(buf[:n])
		s.XORKeyStream(buf[:n], buf[:n])
		if _, err := dev.WriteAt(buf[:n], off); err != nil {
			return fmt.Errorf("wiping the data partition at %d: %w", off, err)
		}
		prog("filling the data partition with random data", off+n, size)
	}
	return durable.Flush(dev)
}
