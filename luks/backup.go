package luks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Header backups in the format of `cryptsetup luksHeaderBackup` (LUKS2): the device's bytes
// from offset 0 to the end of the keyslots area (both header copies and every keyslot's
// key material, 2*hdr_size + keyslots_size: 16 MiB with the defaults), copied as they are
// and padded with zeros to a multiple of 4096 bytes (cryptsetup's page size). A backup keeps
// the keyslots of its day: a passphrase that was valid then opens the volume through it,
// even after the passphrase was changed or the keyslots erased.

// backupPage is the unit cryptsetup rounds a backup file up to (the page size on x86-64).
const backupPage = 4096

// maxBackupSize bounds what is read as a header backup: 2 * 4 MiB headers and cryptsetup's
// largest keyslots area (128 MiB), rounded up.
const maxBackupSize = 2*(4<<20) + 128<<20

// headerAndAreas is the size of both header copies and the keyslots area.
func headerAndAreas(b binHeader, md *metadata) int64 {
	return 2*int64(b.hdrSize) + int64(md.Config.KeyslotsSize)
}

// backupSize is headerAndAreas rounded up as cryptsetup pads a backup file.
func backupSize(n int64) int64 { return (n + backupPage - 1) / backupPage * backupPage }

// HeaderBackupSize is the size of the file HeaderBackup returns.
func (c *Container) HeaderBackupSize() int64 { return backupSize(headerAndAreas(c.current())) }

// HeaderBackup returns a header backup of the device, byte for byte what
// `cryptsetup luksHeaderBackup` writes. Both header copies must agree (travelkit luks
// repair first): a backup is meant to be restored, so it must hold a header that opens.
func (c *Container) HeaderBackup() ([]byte, error) {
	if c.luks1 {
		return nil, &UnsupportedError{What: "header backups of LUKS1 volumes (use cryptsetup luksHeaderBackup)"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.damaged {
		return nil, errors.New("a header copy is damaged or out of date: repair it first (travelkit luks repair), then back it up")
	}
	n := headerAndAreas(c.bin, c.md)
	if n > c.size {
		return nil, fmt.Errorf("the header and keyslots area (%d bytes) extend past the device (%d bytes)", n, c.size)
	}
	b := make([]byte, backupSize(n))
	if _, err := c.dev.ReadAt(b[:n], 0); err != nil {
		return nil, fmt.Errorf("reading the header area: %w", err)
	}
	return b, nil
}

// OpenHeaderBackup opens a header backup (from HeaderBackup or cryptsetup) as a container
// that can be unlocked but not written. Both copies are checked as on a device.
func OpenHeaderBackup(b []byte) (*Container, error) {
	if len(b) > maxBackupSize {
		return nil, fmt.Errorf("a header backup of %d bytes is larger than any LUKS2 header area (%d)", len(b), maxBackupSize)
	}
	c, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		var l1 *LUKS1Error
		if errors.As(err, &l1) {
			return nil, &UnsupportedError{What: "LUKS1 header backups (use cryptsetup luksHeaderRestore)"}
		}
		return nil, fmt.Errorf("not a LUKS2 header backup: %w", err)
	}
	if n := headerAndAreas(c.current()); n > int64(len(b)) {
		return nil, fmt.Errorf("the header backup is truncated: %d bytes, its header and keyslots area take %d", len(b), n)
	}
	return c, nil
}

// ErrVolumeKeyDiffers means a header backup belongs to another volume key than the device:
// restoring it would make the data unreadable.
var ErrVolumeKeyDiffers = errors.New("the header backup is for another volume key than the device: restoring it would make the data unreadable")

// ErrCannotCompare means that nothing proves the backup and the device share their volume key.
var ErrCannotCompare = errors.New("the device's header and the backup have different volume key digests, and no passphrase opened a keyslot to compare the keys")

// RestoreOptions are the checks of RestoreHeader.
type RestoreOptions struct {
	// Passphrase, when given, is tried on the backup's and the device's keyslots: the
	// volume key one of them opens is checked against the other's digest.
	Passphrase []byte
	// Force restores a backup whose volume key differs, or cannot be compared.
	Force bool
}

// RestoreReport says what RestoreHeader found and did.
type RestoreReport struct {
	DeviceHadHeader  bool   // the device held a readable LUKS2 header
	UUIDDiffers      bool   // ... with another UUID than the backup's
	DeviceUUID       string // that header's UUID
	BackupUUID       string
	VolumeKeyChecked bool   // the volume keys were proved equal (same digest, or a keyslot)
	Written          int64  // bytes written at offset 0
	How              string // how the volume key was checked, for the person
}

// RestoreHeader writes a header backup back to the start of dev, as
// `cryptsetup luksHeaderRestore` does: the header and keyslots area are replaced, the data is
// not touched. Like cryptsetup it refuses a backup whose data offset or header area size
// differ from a LUKS2 header still on the device. Unlike cryptsetup it also refuses, unless
// opt.Force, a backup for another volume key: when the device still has a header, either
// both carry the same volume key digest, or opt.Passphrase opens a keyslot of one whose key
// the other's digest accepts.
func RestoreHeader(dev Device, size int64, backup []byte, opt RestoreOptions) (*RestoreReport, error) {
	bc, err := OpenHeaderBackup(backup)
	if err != nil {
		return nil, err
	}
	n := headerAndAreas(bc.current())
	rep := &RestoreReport{BackupUUID: bc.UUID(), Written: n}
	if bc.DataOffset() > size {
		return nil, fmt.Errorf("the backup's data offset (%d) is past the end of the device (%d bytes): wrong device?", bc.DataOffset(), size)
	}
	dc, derr := Open(dev, size)
	if derr == nil && dc.luks1 {
		return nil, &UnsupportedError{What: "restoring over a LUKS1 header"}
	}
	if derr == nil {
		rep.DeviceHadHeader, rep.DeviceUUID = true, dc.UUID()
		rep.UUIDDiffers = dc.UUID() != bc.UUID()
		if dc.DataOffset() != bc.DataOffset() {
			return rep, fmt.Errorf("data offset differs on the device (%d) and in the backup (%d): restore refused", dc.DataOffset(), bc.DataOffset())
		}
		if dn := headerAndAreas(dc.current()); dn != n {
			return rep, fmt.Errorf("the header and keyslots area differ in size on the device (%d) and in the backup (%d): restore refused", dn, n)
		}
		if err := sameVolumeKey(dc, bc, opt.Passphrase, rep); err != nil && !opt.Force {
			return rep, err
		}
	} else if len(opt.Passphrase) > 0 {
		// Nothing on the device to compare with; at least the passphrase must open the backup.
		vk, _, err := bc.Unlock(opt.Passphrase)
		if err != nil {
			return rep, fmt.Errorf("the passphrase opens no keyslot of the backup: %w", err)
		}
		vk.Wipe()
		rep.How = "the device has no LUKS2 header to compare with; the passphrase opens the backup"
	}
	w, ok := dev.(io.WriterAt)
	if !ok {
		return rep, errors.New("the device was opened read-only")
	}
	if _, err := w.WriteAt(backup[:n], 0); err != nil {
		return rep, fmt.Errorf("writing the header area: %w", err)
	}
	return rep, syncDevice(dev)
}

// sameVolumeKey proves that the device's header dc and the backup bc are for one volume key.
func sameVolumeKey(dc, bc *Container, pass []byte, rep *RestoreReport) error {
	_, dd := dc.meta().segmentDigest()
	_, bd := bc.meta().segmentDigest()
	if dd != nil && bd != nil && dd.Salt == bd.Salt && dd.Digest == bd.Digest && dd.Hash == bd.Hash && dd.Iterations == bd.Iterations {
		rep.VolumeKeyChecked, rep.How = true, "the device's header and the backup carry the same volume key digest"
		return nil
	}
	if len(pass) > 0 {
		for _, try := range []struct {
			open, check *Container
			what        string
		}{{bc, dc, "a keyslot of the backup"}, {dc, bc, "a keyslot on the device"}} {
			vk, _, err := try.open.Unlock(pass)
			if err != nil {
				continue
			}
			err = try.check.CheckVolumeKey(vk)
			vk.Wipe()
			if errors.Is(err, ErrWrongVolumeKey) {
				return ErrVolumeKeyDiffers
			}
			if err == nil {
				rep.VolumeKeyChecked, rep.How = true, "the passphrase opens "+try.what+" and the other accepts its volume key"
				return nil
			}
		}
	}
	return ErrCannotCompare
}
