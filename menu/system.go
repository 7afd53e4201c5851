package menu

import (
	"io"
	"time"

	"travelkit/image"
)

// Device is an opened disk.
type Device interface {
	image.Device
	io.Closer
}

// KitDisk is a kit drive found on the computer.
type KitDisk struct {
	Path  string // /dev/sdb
	KitID string // from its tools partition (untrusted until unlocked)
	Size  int64
	Model string
	Bus   string // "USB", "SATA", "NVMe", ... when known
}

// Partition is a partition (or a whole-disk filesystem) of this computer or another drive.
type Partition struct {
	Path      string // /dev/nvme0n1p3
	Disk      string // /dev/nvme0n1
	DiskModel string
	Removable bool // a USB stick or card, not the computer's own disk
	Size      int64
	FS        string // ntfs, ext4, exfat, vfat, hfsplus; "" when unknown
	Label     string
	// Encrypted names an encryption that cannot be read here: "BitLocker", "FileVault",
	// "APFS", "LUKS" (another encrypted Linux disk).
	Encrypted string
}

// System is what the menu needs from the running system.
type System interface {
	// SecureBoot says whether the firmware booted with Secure Boot on ("on", "off", or
	// "" when unknown) and the kernel's lockdown mode ("integrity", "none", "").
	SecureBoot() (state, lockdown string)
	// FindKits lists the kit drives plugged in.
	FindKits() ([]KitDisk, error)
	// OpenKit opens a kit drive for reading, and for writing its data partition.
	OpenKit(path string) (Device, error)
	// Partitions lists the partitions of every disk but excludeDisk.
	Partitions(excludeDisk string) ([]Partition, error)
	// Mount mounts p, read-only unless writable, and returns its folder.
	Mount(p Partition, writable bool) (string, error)
	// Unmount unmounts a folder Mount returned, after flushing it.
	Unmount(dir string) error
	// Halt powers the computer off, or restarts it.
	Halt(reboot bool) error
	// Now is the time shown and given to snapshots.
	Now() time.Time
}
