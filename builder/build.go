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
	"path/filepath"

	"travelkit/drive"
	"travelkit/image"
	"travelkit/image/ext4"
	"travelkit/image/gpt"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/target"
)

// Progress reports a stage's progress: done of total bytes (total 0: no measure).
type Progress func(stage string, done, total int64)

// BuildOptions are the build's secrets and choices.
type BuildOptions struct {
	Passphrase []byte // keyslot 0
	Wipe       bool   // fill the data partition with random bytes first
	EscrowDir  string // also write DIR/<name>.age
	Progress   Progress
}

// Result is what the person must be told, and what --json prints.
type Result struct {
	KitID       string        `json:"kit_id"`
	Target      string        `json:"target"`
	LUKSUUID    string        `json:"luks_uuid"`
	RecoveryKey string        `json:"-"` // shown once on the terminal, written to --recovery-key-file
	Keyslots    []kit.Keyslot `json:"keyslots"`
	EscrowFiles []string      `json:"escrow_files,omitempty"`
	Files       int           `json:"files"`
	Manifest    []byte        `json:"-"`
}

// errInterrupted is returned when ctx is cancelled during a build.
var errInterrupted = errors.New("build interrupted: the drive holds an unfinished kit, which verify reports as incomplete; build again")

// Build writes the planned kit. The partition table is written last: until then the drive
// does not look like a kit, so an interrupted build is never mistaken for a good one.
func Build(ctx context.Context, p *Plan, opt BuildOptions) (*Result, error) {
	if len(opt.Passphrase) == 0 {
		return nil, errors.New("no passphrase")
	}
	prog := opt.Progress
	if prog == nil {
		prog = func(string, int64, int64) {}
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
	defer tg.Close()
	var dev image.Device = tg
	l := p.Layout
	step := func() error {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return nil
	}

	// 1. Remove the old partition tables (both GPT copies, the MBR): from now on until the
	// end the drive is not a kit.
	prog("clearing the old partition table", 0, 0)
	zero := make([]byte, 1<<20)
	if _, err := dev.WriteAt(zero, 0); err != nil {
		return nil, fmt.Errorf("writing to %s: %w", p.Target.Path, err)
	}
	if _, err := dev.WriteAt(zero, p.DiskSize-int64(len(zero))); err != nil {
		return nil, fmt.Errorf("writing to %s: %w", p.Target.Path, err)
	}
	if err := tg.Sync(); err != nil {
		return nil, err
	}
	data, err := image.NewSection(dev, l.DataOff, l.DataSize)
	if err != nil {
		return nil, err
	}
	tools, err := image.NewSection(dev, l.ToolsOff, l.ToolsSize)
	if err != nil {
		return nil, err
	}

	// 2. Optional random fill of the data partition.
	if opt.Wipe {
		if err := wipe(ctx, data, prog); err != nil {
			return nil, err
		}
	}
	if err := step(); err != nil {
		return nil, err
	}

	// 3. LUKS2 with the passphrase in keyslot 0, the recovery key in keyslot 1.
	prog("creating the encrypted volume (key derivation)", 0, 0)
	lo := p.Config.LUKS
	lo.Label = p.Config.Name
	lo.Keyslot = 0
	c, vk, err := luks.Format(data, l.DataSize, opt.Passphrase, lo)
	if err != nil {
		return nil, fmt.Errorf("creating the LUKS2 volume: %w", err)
	}
	defer vk.Wipe()
	res := &Result{KitID: p.Config.Name, Target: p.Target.Path, LUKSUUID: c.UUID(), Keyslots: p.Keyslots}
	if p.Config.RecoveryKey {
		prog("adding the recovery key", 0, 0)
		if res.RecoveryKey, err = kit.GenerateRecoveryKey(); err != nil {
			return nil, err
		}
		// Same costs as keyslot 0, already calibrated: no second calibration.
		if _, err := c.AddKeyslot(vk, []byte(res.RecoveryKey), 1, c.Keyslots()[0].PBKDF); err != nil {
			return nil, fmt.Errorf("adding the recovery key: %w", err)
		}
	}
	if err := step(); err != nil {
		return nil, err
	}

	// 4. Tools content: escrow files, then the manifest over everything.
	escrow := map[string][]byte{}
	for _, e := range p.Config.Escrow {
		b, err := kit.Escrow(res.RecoveryKey, e.Recipient)
		if err != nil {
			return nil, fmt.Errorf("escrow %q: %w", e.Name, err)
		}
		escrow[kit.EscrowPath(e.Name)] = b
	}
	man := &kit.Manifest{KitID: p.Config.Name, Created: p.Created, Version: p.Version, LUKSUUID: c.UUID(),
		Keyslots: p.Keyslots, Languages: p.Config.Languages, Platforms: p.Config.Platforms}
	for _, e := range p.Config.Escrow {
		r, _ := kit.ParseRecipient(e.Recipient)
		man.Escrow = append(man.Escrow, kit.EscrowEntry{Name: e.Name, Recipient: e.Recipient, Kind: kit.RecipientKind(r), File: kit.EscrowPath(e.Name)})
	}
	var files []File
	for _, f := range p.Files {
		switch {
		case f.Path == kit.ManifestName || f.Path == kit.SumsName:
			continue
		case escrow[f.Path] != nil:
			f.data, f.Size = escrow[f.Path], int64(len(escrow[f.Path]))
		}
		r, closer, err := f.open()
		if err != nil {
			return nil, err
		}
		err = man.Add(f.Path, r)
		closer()
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	manJSON, sums, err := man.Encode()
	if err != nil {
		return nil, err
	}
	res.Manifest = manJSON
	files = append(files, File{Path: kit.ManifestName, Size: int64(len(manJSON)), data: manJSON},
		File{Path: kit.SumsName, Size: int64(len(sums)), data: sums})

	// 5. ext4 inside the volume: repo/, and travelkit/ with the trusted manifest copy and
	// the backup repository's password.
	prog("creating the encrypted filesystem", 0, 0)
	vol, err := c.OpenVolume(vk)
	if err != nil {
		return nil, err
	}
	defer vol.Close()
	label := p.Config.Name
	if len(label) > 16 {
		label = label[:16]
	}
	if err := ext4.Format(vol, ext4.FormatOptions{Label: label, Time: p.Created}); err != nil {
		return nil, fmt.Errorf("creating ext4 in the encrypted volume: %w", err)
	}
	fs, err := ext4.Open(vol, ext4.Options{Writable: true})
	if err != nil {
		return nil, err
	}
	repoPass := make([]byte, 32)
	if _, err := rand.Read(repoPass); err != nil {
		return nil, err
	}
	pw := []byte(hex.EncodeToString(repoPass))
	clear(repoPass)
	for _, d := range []string{drive.RepoDir, drive.MetaDir} {
		if err := fs.MkdirAll(d); err != nil {
			return nil, err
		}
	}
	for name, b := range map[string][]byte{
		drive.MetaDir + "/" + kit.ManifestName: manJSON,
		drive.MetaDir + "/" + kit.SumsName:     sums,
		drive.RepoPassword:                     pw,
	} {
		if err := fs.WriteFile(name, bytes.NewReader(b), int64(len(b)), p.Created); err != nil {
			return nil, fmt.Errorf("writing %s in the encrypted volume: %w", name, err)
		}
	}
	clear(pw)
	if err := fs.Close(); err != nil {
		return nil, err
	}
	if err := vol.Flush(); err != nil {
		return nil, err
	}
	if err := step(); err != nil {
		return nil, err
	}

	// 6. The FAT32 tools partition, written the one way verify can rebuild.
	var tf []drive.ToolsFile
	for _, f := range files {
		f := f
		tf = append(tf, drive.ToolsFile{Path: f.Path, Size: f.Size, Open: f.openCloser})
	}
	err = drive.WriteTools(ctx, tools, p.Created, tf, func(done, total int64) { prog("writing the tools partition", done, total) })
	if ctx.Err() != nil {
		return nil, errInterrupted
	}
	if err != nil {
		return nil, err
	}
	res.Files = len(files)

	// 7. Escrow copies for handing over.
	if opt.EscrowDir != "" {
		if err := os.MkdirAll(opt.EscrowDir, 0o700); err != nil {
			return nil, err
		}
		for _, e := range p.Config.Escrow {
			out := filepath.Join(opt.EscrowDir, e.Name+".age")
			if err := os.WriteFile(out, escrow[kit.EscrowPath(e.Name)], 0o600); err != nil {
				return nil, err
			}
			res.EscrowFiles = append(res.EscrowFiles, out)
		}
	}

	// 8. Last: the partition table. Now the drive is a kit.
	if err := tg.Sync(); err != nil {
		return nil, err
	}
	if err := step(); err != nil {
		return nil, err
	}
	prog("writing the partition table", 0, 0)
	if err := gpt.Write(dev, l.Table); err != nil {
		return nil, fmt.Errorf("writing the partition table: %w", err)
	}
	if err := tg.Sync(); err != nil {
		return nil, err
	}
	return res, nil
}

// openCloser opens the file's content.
func (f File) openCloser() (io.ReadCloser, error) {
	r, closer, err := f.open()
	if err != nil {
		return nil, err
	}
	return readCloser{r, closer}, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

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
		h.Close()
		return nil, nil, fmt.Errorf("%s changed since the plan", f.Source)
	}
	return io.LimitReader(h, f.Size), func() { h.Close() }, nil
}

// wipe fills the device with random bytes: AES-CTR under a random key, fast enough to be
// limited by the drive.
func wipe(ctx context.Context, dev image.Device, prog Progress) error {
	key := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	rand.Read(key)
	rand.Read(iv)
	b, _ := aes.NewCipher(key)
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
	return image.Flush(dev)
}
