package drive

import (
	"errors"
	"fmt"
	"io"

	"travelkit/image"
	"travelkit/image/ext4"
	"travelkit/image/fat32"
	"travelkit/image/gpt"
	"travelkit/internal/bytesize"
	"travelkit/kit"
	"travelkit/luks"
)

const (
	// ToolsLabel is the FAT32 label of the tools partition, shown by every OS.
	ToolsLabel = "TRAVELKIT"
	// ToolsPartition and DataPartition are the partition numbers.
	ToolsPartition = 1
	DataPartition  = 2
	// ToolsPartName and DataPartName are the GPT partition names.
	ToolsPartName = "TRAVELKIT"
	DataPartName  = "travelkit data"
	// MinDataSize is the smallest data partition: the LUKS2 header area (16 MiB) and a small ext4.
	MinDataSize = 64 << 20
	// Paths inside the encrypted volume (the trusted manifest copy is MetaDir + "/" +
	// kit.ManifestName).
	RepoDir      = "repo"
	MetaDir      = "travelkit"
	RepoPassword = "travelkit/repo-password"
)

// Layout is where the partitions of a kit go on a disk.
type Layout struct {
	DiskSize   int64
	SectorSize int
	Table      *gpt.Table
	ToolsOff   int64
	ToolsSize  int64
	DataOff    int64
	DataSize   int64
}

// TooSmallError is a disk too small for a kit with its tools partition (byte counts).
type TooSmallError struct{ Disk, Tools, Need int64 }

func (e *TooSmallError) Error() string {
	return fmt.Sprintf("the disk is %s, too small: a kit with a %s tools partition needs at least %s",
		bytesize.Format(e.Disk), bytesize.Format(e.Tools), bytesize.Format(e.Need))
}

// PlanLayout places the tools partition (toolsSize, rounded down to whole MiB) at 1 MiB and
// the data partition after it, taking the rest of the disk, both aligned to 1 MiB.
func PlanLayout(diskSize int64, sectorSize int, toolsSize int64) (*Layout, error) {
	if sectorSize == 0 {
		sectorSize = 512
	}
	toolsSize = toolsSize / gpt.Align * gpt.Align
	if toolsSize <= 0 {
		return nil, fmt.Errorf("tools partition size must be at least 1 MiB")
	}
	need := gpt.Align + toolsSize + MinDataSize + gpt.Align
	if diskSize < need {
		return nil, &TooSmallError{Disk: diskSize, Tools: toolsSize, Need: need}
	}
	t, err := gpt.Layout(diskSize, sectorSize, []gpt.Spec{
		{Type: gpt.TypeMicrosoftBasicData, Name: ToolsPartName, Size: toolsSize},
		{Type: gpt.TypeLinuxLUKS, Name: DataPartName},
	})
	if err != nil {
		return nil, err
	}
	// End the data partition on a 1 MiB boundary too, so that its size is a whole number
	// of LUKS sectors (and of ext4 blocks).
	p2 := &t.Partitions[1]
	perMiB := uint64(gpt.Align / sectorSize)
	if n := (p2.Last - p2.First + 1) / perMiB * perMiB; n > 0 {
		p2.Last = p2.First + n - 1
	}
	l := &Layout{DiskSize: diskSize, SectorSize: sectorSize, Table: t}
	l.ToolsOff, l.ToolsSize = t.Offset(t.Partitions[0]), t.Length(t.Partitions[0])
	l.DataOff, l.DataSize = t.Offset(t.Partitions[1]), t.Length(t.Partitions[1])
	if l.DataSize < MinDataSize {
		return nil, fmt.Errorf("the data partition would be %s; at least %s is needed: use a larger disk or a smaller tools_size",
			bytesize.Format(l.DataSize), bytesize.Format(MinDataSize))
	}
	return l, nil
}

// ErrNotKit says the device has no kit layout.
var ErrNotKit = errors.New("not a travel kit")

// Drive is an opened kit drive.
type Drive struct {
	Dev   image.Device
	Table *gpt.Table
	Tools *image.Section
	Data  *image.Section
}

// Open finds the kit partitions on dev. A drive whose build did not finish has no GPT
// (it is written last) and is reported as incomplete.
func Open(dev image.Device) (*Drive, error) {
	var t *gpt.Table
	var err error
	for _, ss := range []int{512, 4096} {
		if t, err = gpt.Read(dev, dev.Size(), ss); err == nil {
			break
		}
	}
	if t == nil {
		if lost := findLostVolume(dev); lost != nil {
			return nil, lost
		}
		return nil, fmt.Errorf("%w: no partition table found", ErrNotKit)
	}
	d := &Drive{Dev: dev, Table: t}
	for _, p := range t.Partitions {
		sec, err := image.NewSection(dev, t.Offset(p), t.Length(p))
		if err != nil {
			return nil, fmt.Errorf("%w: partition %d is outside the disk", ErrNotKit, p.Index)
		}
		switch {
		case p.Index == ToolsPartition && p.Type == gpt.TypeMicrosoftBasicData:
			d.Tools = sec
		case p.Index == DataPartition && p.Type == gpt.TypeLinuxLUKS:
			d.Data = sec
		}
	}
	if d.Tools == nil || d.Data == nil {
		return nil, fmt.Errorf("%w: expected partition 1 FAT32 (Microsoft basic data) and partition 2 Linux LUKS", ErrNotKit)
	}
	return d, nil
}

// ToolsFS opens the FAT32 tools partition for reading.
func (d *Drive) ToolsFS() (*fat32.FS, error) {
	fs, err := fat32.Open(d.Tools, d.Tools.Size())
	if err != nil {
		return nil, fmt.Errorf("tools partition: %w", err)
	}
	return fs, nil
}

// Container opens the LUKS2 header of the data partition.
func (d *Drive) Container() (*luks.Container, error) {
	c, err := luks.Open(d.Data, d.Data.Size())
	if err != nil {
		return nil, fmt.Errorf("data partition: %w", err)
	}
	return c, nil
}

// Unlocked is a kit whose data volume is open.
type Unlocked struct {
	Container *luks.Container
	Slot      int
	Volume    *luks.Volume
	FS        *ext4.FS
	Writable  bool // the filesystem was opened for writing
	// Key is the volume key, for key changes (adding or replacing keyslots); wiped by Close.
	// Nil after UnlockEarly until Verify.
	Key *luks.VolumeKey

	pending *luks.PendingUnlock // UnlockEarly's key check, until Verify
	drive   *Drive
}

// UnlockEarly is Unlock that does not wait for the last step of unlocking: the check of
// the keyslot's key against the volume key digest (a PBKDF2 of about 125 ms) runs in the
// background while the caller reads the volume (the repository password, the repository's
// own key derivation), and Verify ends it. Until Verify has returned without an error,
// what is read may come from a wrong key: garbage to be neither trusted nor acted upon;
// the volume writes nothing before the check has passed (every write waits for it), and
// the files are made private (Unlock's RestrictModes) by Verify. When the first keyslot
// tried does not open, UnlockEarly finishes the unlock as Unlock does before it returns.
func (d *Drive) UnlockEarly(pass []byte, slot int, writable bool) (*Unlocked, error) {
	c, err := d.Container()
	if err != nil {
		return nil, err
	}
	p, err := c.BeginUnlock(pass, slot)
	if err != nil {
		return nil, err
	}
	if v, err := p.Candidate(); err == nil {
		fs, err := openEarlyFS(v, ext4.Options{Writable: writable})
		if err == nil {
			return &Unlocked{Container: c, Slot: -1, Volume: v, FS: fs, Writable: writable, pending: p, drive: d}, nil
		}
		// a wrong key, or a file system that needs the checked key's error messages
		v.Close() // wipes the key schedule; it cannot fail
	}
	vk, slot, err := p.Wait()
	if err != nil {
		return nil, err
	}
	defer vk.Wipe()
	return d.openVolume(c, vk, slot, writable)
}

// openEarlyFS opens the file system of UnlockEarly's candidate volume (tests make a
// wrong key's garbage "open").
var openEarlyFS = func(v *luks.Volume, o ext4.Options) (*ext4.FS, error) { return ext4.Open(v, o) }

// Verify ends an UnlockEarly: it waits for the key check and returns its error (that of
// Unlock: luks.ErrWrongPassphrase, say), having closed the volume. When the key was
// not the first keyslot's but another keyslot opened, the volume and file system are
// opened again with that keyslot's key and reopened is true: everything read before
// must be read again. After Unlock, or a second time, it does nothing.
func (u *Unlocked) Verify() (reopened bool, err error) {
	p := u.pending
	if p == nil {
		return false, nil
	}
	u.pending = nil
	vk, slot, err := p.Wait()
	if err != nil {
		u.FS.Close()     // writes nothing: the volume refuses every write
		u.Volume.Close() // wipes the key schedule; it cannot fail
		return false, err
	}
	defer vk.Wipe()
	if slot == p.FirstSlot() {
		u.Slot, u.Key = slot, luks.NewVolumeKey(vk.Bytes())
		if u.Writable {
			if _, err := u.FS.RestrictModes(); err != nil {
				return false, fmt.Errorf("making the encrypted volume's files private: %w", err)
			}
		}
		return false, nil
	}
	u.FS.Close()     // writes nothing: the volume refused every write
	u.Volume.Close() // wipes the key schedule; it cannot fail
	nu, err := u.drive.openVolume(u.Container, vk, slot, u.Writable)
	if err != nil {
		return false, err
	}
	*u = *nu
	return true, nil
}

// Unlock opens the data volume with a keyslot passphrase (the passphrase, the recovery
// key, or a TPM-unsealed secret) and its ext4 filesystem. slot < 0 tries every keyslot.
func (d *Drive) Unlock(pass []byte, slot int, writable bool) (*Unlocked, error) {
	c, err := d.Container()
	if err != nil {
		return nil, err
	}
	var vk *luks.VolumeKey
	if slot < 0 {
		vk, slot, err = c.Unlock(pass)
	} else {
		vk, err = c.UnlockSlot(pass, slot)
	}
	if err != nil {
		return nil, err
	}
	defer vk.Wipe()
	return d.openVolume(c, vk, slot, writable)
}

// UnlockKey opens the data volume with the volume key itself.
func (d *Drive) UnlockKey(vk *luks.VolumeKey, writable bool) (*Unlocked, error) {
	c, err := d.Container()
	if err != nil {
		return nil, err
	}
	return d.openVolume(c, vk, -1, writable)
}

func (d *Drive) openVolume(c *luks.Container, vk *luks.VolumeKey, slot int, writable bool) (*Unlocked, error) {
	v, err := c.OpenVolume(vk)
	if err != nil {
		return nil, err
	}
	fs, err := ext4.Open(v, ext4.Options{Writable: writable})
	if err != nil {
		v.Close() // wipes the key schedule; it cannot fail
		if errors.Is(err, ext4.ErrNeedsFsck) {
			return nil, fmt.Errorf("the encrypted volume's filesystem needs repair: %w", err)
		}
		return nil, fmt.Errorf("the encrypted volume's filesystem: %w", err)
	}
	if writable {
		// Kits written before everything inside was private to root are fixed on their
		// next write (a no-op once the root folder is private).
		if _, err := fs.RestrictModes(); err != nil {
			fs.Close() // RestrictModes' error says what went wrong; a close error would hide it
			v.Close()  // wipes the key schedule; it cannot fail
			return nil, fmt.Errorf("making the encrypted volume's files private: %w", err)
		}
	}
	return &Unlocked{Container: c, Slot: slot, Volume: v, FS: fs, Key: luks.NewVolumeKey(vk.Bytes()), Writable: writable}, nil
}

// maxSmallFile bounds the small files of the encrypted volume read whole (the
// repository password, the copies of the manifest and SHA256SUMS).
const maxSmallFile = 16 << 20

// ReadSmallFile reads a small file of the encrypted volume, refusing one larger than
// 16 MiB before reading it: an inode of a damaged or tampered file system may claim
// any size (e2fsck accepts a sparse 1 TiB file).
func (u *Unlocked) ReadSmallFile(p string) ([]byte, error) {
	f, err := u.FS.Open(p)
	if err != nil {
		return nil, err
	}
	if f.Size() < 0 || f.Size() > maxSmallFile {
		return nil, fmt.Errorf("%s claims %s, more than such a file holds (%s): the file system is damaged or was tampered with; on Linux check it with cryptsetup open, then e2fsck -f /dev/mapper/NAME",
			p, bytesize.Format(f.Size()), bytesize.Format(maxSmallFile))
	}
	b := make([]byte, f.Size())
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// Close flushes and closes the filesystem and the volume.
func (u *Unlocked) Close() error {
	if u.pending != nil {
		// an UnlockEarly never verified (the command failed first): nothing was written
		u.pending.Discard()
		u.pending = nil
	}
	err := u.FS.Close()
	if ferr := u.Volume.Flush(); err == nil {
		err = ferr
	}
	u.Volume.Close() // wipes the key schedule; it cannot fail
	if u.Key != nil {
		u.Key.Wipe()
	}
	return err
}

// ToolsTree returns the tools partition as a kit.Tree, for manifest verification.
func (d *Drive) ToolsTree() (kit.Tree, error) {
	fs, err := d.ToolsFS()
	if err != nil {
		return nil, err
	}
	return fatTree{fs}, nil
}

type fatTree struct{ fs *fat32.FS }

func (t fatTree) Entries() ([]kit.TreeEntry, error) {
	var out []kit.TreeEntry
	err := t.fs.Walk(func(p string, e fat32.Entry) error {
		out = append(out, kit.TreeEntry{Path: p, Dir: e.IsDir, Hidden: e.Hidden})
		return nil
	})
	return out, err
}

func (t fatTree) Open(p string) (io.ReadCloser, error) {
	r, _, err := t.fs.Open(p)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(r), nil
}
