package bootenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"travelkit/drive"
	"travelkit/image/gpt"
	"travelkit/menu"
	"travelkit/target"
)

// linuxSystem is menu.System on the booted kernel.
type linuxSystem struct {
	log *consoleLog
	n   int // mount counter
}

// efiGlobal is the EFI global variable GUID (SecureBoot lives under it).
const efiGlobal = "8be4df61-93ca-11d2-aa0d-00e098032b8c"

func (s *linuxSystem) SecureBoot() (state, lockdown string) {
	if _, err := os.Stat("/sys/firmware/efi"); err == nil {
		// attributes (4 bytes) then the value: 1 = Secure Boot on
		if b, err := os.ReadFile("/sys/firmware/efi/efivars/SecureBoot-" + efiGlobal); err == nil && len(b) == 5 {
			state = "off"
			if b[4] == 1 {
				state = "on"
			}
		}
	}
	if b, err := os.ReadFile("/sys/kernel/security/lockdown"); err == nil {
		// "none [integrity] confidentiality": the bracketed word is in force
		s := string(b)
		if i := strings.IndexByte(s, '['); i >= 0 {
			if j := strings.IndexByte(s[i:], ']'); j > 0 {
				lockdown = s[i+1 : i+j]
			}
		}
	}
	return state, lockdown
}

// FindKits is the CLI's drive.Find.
func (s *linuxSystem) FindKits() ([]menu.KitDisk, error) {
	found, _, err := drive.Find()
	var out []menu.KitDisk
	for _, f := range found {
		out = append(out, menu.KitDisk{Path: f.Path, KitID: f.KitID, Size: f.Size, Model: f.Model, Bus: bus(f.Path)})
	}
	return out, err
}

// OpenKit opens the kit as the CLI's backup does: writes only into its data partition.
func (s *linuxSystem) OpenKit(path string) (menu.Device, error) {
	return target.Open(path, target.Options{Write: true, Partition: drive.DataPartition})
}

// Partitions lists every partition (and whole-disk filesystem) of every disk but the
// kit's, probed for its filesystem.
func (s *linuxSystem) Partitions(exclude string) ([]menu.Partition, error) {
	disks, err := target.ListDisks()
	if err != nil {
		return nil, err
	}
	var out []menu.Partition
	for _, disk := range disks {
		if disk == exclude {
			continue
		}
		name := filepath.Base(disk)
		sys := filepath.Join("/sys/block", name)
		removable := sysRead(sys+"/removable") == "1"
		if real, err := filepath.EvalSymlinks(sys); err == nil && strings.Contains(real, "/usb") {
			removable = true
		}
		model := strings.TrimSpace(sysRead(sys + "/device/model"))
		types := gptTypes(disk)
		ents, _ := os.ReadDir(sys)
		var parts []string
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), name) && sysRead(filepath.Join(sys, e.Name(), "partition")) != "" {
				parts = append(parts, e.Name())
			}
		}
		if len(parts) == 0 {
			parts = []string{""} // a filesystem on the whole disk
		}
		for _, pn := range parts {
			dev, sysp := disk, sys
			num := 0
			if pn != "" {
				dev, sysp = "/dev/"+pn, filepath.Join(sys, pn)
				num, _ = strconv.Atoi(sysRead(sysp + "/partition"))
			}
			sectors, _ := strconv.ParseInt(sysRead(sysp+"/size"), 10, 64)
			p := menu.Partition{Path: dev, Disk: disk, DiskModel: model, Removable: removable, Size: sectors * 512}
			if f, err := os.Open(dev); err == nil {
				pr := Probe(f)
				f.Close()
				p.FS, p.Label, p.Encrypted = pr.FS, pr.Label, pr.Encrypted
			}
			if t, ok := types[num]; ok && p.FS == "" && p.Encrypted == "" {
				switch t {
				case gptCoreStorage:
					p.Encrypted = "FileVault"
				case gptAPFS:
					p.Encrypted = "APFS"
				}
			}
			if pn == "" && p.FS == "" && p.Encrypted == "" {
				continue // a partitioned disk's own entry, or an empty one
			}
			out = append(out, p)
		}
	}
	return out, nil
}

var (
	gptCoreStorage = gpt.MustParseGUID("53746F72-6167-11AA-AA11-00306543ECAC") // FileVault 2 on HFS+
	gptAPFS        = gpt.MustParseGUID("7C3457EF-0000-11AA-AA11-00306543ECAC")
)

// gptTypes reads a disk's GPT partition types by number, with the GPT reader travelkit
// uses for kits.
func gptTypes(disk string) map[int]gpt.GUID {
	out := map[int]gpt.GUID{}
	f, err := os.Open(disk)
	if err != nil {
		return out
	}
	defer f.Close()
	size, err := f.Seek(0, 2)
	if err != nil {
		return out
	}
	for _, ss := range []int{512, 4096} {
		if t, err := gpt.Read(f, size, ss); err == nil {
			for _, p := range t.Partitions {
				out[p.Index] = p.Type
			}
			break
		}
	}
	return out
}

// bus names how a disk is attached, from its place in sysfs.
func bus(disk string) string {
	real, err := filepath.EvalSymlinks(filepath.Join("/sys/block", filepath.Base(disk)))
	if err != nil {
		return ""
	}
	switch {
	case strings.Contains(real, "/usb"):
		return "USB"
	case strings.Contains(real, "/nvme"):
		return "NVMe"
	case strings.Contains(real, "/ata"):
		return "SATA"
	case strings.Contains(real, "/virtio"):
		return "virtio"
	case strings.Contains(real, "/mmc"):
		return "SD card"
	}
	return ""
}

func sysRead(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Mount mounts a partition under /media/<device>: read-only unless writable (ext4
// read-only also skips journal replay, so that not one byte of the disk changes), never
// executable, never with device files or setuid. Filesystems without owners (NTFS
// through ntfs-3g, FAT, exFAT) get umask 077: their folders are then private to root,
// as restore wants a folder nobody else could have prepared.
func (s *linuxSystem) Mount(p menu.Partition, writable bool) (string, error) {
	dir := "/media/" + filepath.Base(p.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME)
	if !writable {
		flags |= unix.MS_RDONLY
	}
	var data string
	switch p.FS {
	case "ntfs":
		opts := "ro"
		if writable {
			opts = "rw"
		}
		// ntfs-3g through FUSE: Debian 12's kernel has no NTFS driver.
		out, err := exec.Command("/usr/bin/ntfs-3g", "-o", opts+",umask=077,noatime,nosuid,nodev,noexec", p.Path, dir).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("ntfs-3g: %v: %s", err, strings.TrimSpace(string(out)))
		}
		return dir, nil
	case "vfat":
		data = "utf8,shortname=mixed,umask=077"
	case "exfat":
		data = "iocharset=utf8,umask=077"
	case "ext4":
		if !writable {
			data = "noload"
		}
	case "hfsplus":
	default:
		return "", fmt.Errorf("%s: no filesystem this system can read", p.Path)
	}
	if err := unix.Mount(p.Path, dir, p.FS, flags, data); err != nil {
		return "", fmt.Errorf("mount %s (%s): %w", p.Path, p.FS, err)
	}
	return dir, nil
}

// Unmount flushes and unmounts; a FUSE (NTFS) mount is waited for until its daemon has
// written everything.
func (s *linuxSystem) Unmount(dir string) error {
	unix.Sync()
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Unmount(dir, 0); err != unix.EBUSY {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	unix.Sync()
	os.Remove(dir)
	return nil
}

func (s *linuxSystem) Halt(reboot bool) error {
	halt(reboot)
	return errors.New("unreachable")
}

func (s *linuxSystem) Now() time.Time { return time.Now() }
