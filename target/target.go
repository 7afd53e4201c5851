package target

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"travelkit/internal/bytesize"
)

// Kind is what the target is.
type Kind int

const (
	ImageFile Kind = iota
	BlockDevice
)

// Partition is a partition found on a disk, for display and the in-use checks.
type Partition struct {
	Number  int // 1-based partition number, 0 when unknown
	Path    string
	Label   string
	FSType  string
	Mounts  []string // mount points of the partition (or of what is stacked on it)
	Holders []string // device-mapper / RAID devices built on it, described
}

// Info describes a target as found, before anything is written.
type Info struct {
	Path       string
	Kind       Kind
	Exists     bool // image files: whether the file is there already
	Size       int64
	SectorSize int // logical block size of a disk (512 or 4096); 0 for image files
	Model      string
	Serial     string
	Transport  string // "usb", "sata", "nvme", "mmc", "loop", ... when known
	Removable  bool
	System     string   // non-empty: this disk holds the running system (why)
	Mounts     []string // whole-disk mounts
	Holders    []string // whole-disk holders
	Partitions []Partition
	RawPath    string // the path actually opened (macOS: /dev/rdiskN)
	// Sparse: a new image file will be sparse (its file system keeps unwritten parts
	// unallocated: ext4, APFS, NTFS; not FAT32, exFAT or HFS+)
	Sparse bool
}

// Identity is what must not change between the plan and the write.
type Identity struct {
	Path   string
	Serial string
	Size   int64
	Model  string
}

// Identity returns the identity of the target as inspected.
func (i *Info) Identity() Identity {
	return Identity{Path: i.Path, Serial: i.Serial, Size: i.Size, Model: i.Model}
}

// FixedLimit is the size above which a disk needs --allow-fixed even when removable.
const FixedLimit = 2_000_000_000_000 // 2 TB

// Options say what the caller is about to do.
type Options struct {
	Write      bool  // open for writing
	CreateSize int64 // image files: create the file sparse with this size when absent
	AllowFixed bool  // allow non-removable disks and disks above 2 TB
	// Partition, when not 0, says that only that partition (its 1-based number) will be
	// written, as backups and `files put` write only a kit's data partition: the other
	// partitions (the tools partition the program may be running from) may stay mounted.
	// That partition itself must not be mounted or open in the kernel (a dm-crypt
	// mapping), since two writers corrupt a filesystem.
	Partition int
	// Expect, when set, is the identity shown to the person; Open refuses if the disk
	// found now differs (a replugged stick that came back as another device).
	Expect *Identity
}

// RefusedError is a safety refusal: nothing was written.
type RefusedError struct {
	Path   string
	Reason string
	Hint   string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("refusing %s: %s", e.Path, e.Reason) }

// ErrNeedAdmin is returned when raw disk access needs administrator rights.
var ErrNeedAdmin = errors.New("raw disk access needs administrator rights")

// Target is an opened image file or block device.
type Target struct {
	info     Info
	dev      rawDevice
	writable bool
}

type rawDevice interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Close() error
}

func (t *Target) ReadAt(p []byte, off int64) (int, error)  { return t.dev.ReadAt(p, off) }
func (t *Target) WriteAt(p []byte, off int64) (int, error) { return t.dev.WriteAt(p, off) }
func (t *Target) Size() int64                              { return t.info.Size }
func (t *Target) Close() error                             { return t.dev.Close() }
func (t *Target) Info() *Info                              { return &t.info }

// Sync makes writes durable. A target opened for reading has nothing to flush, and
// Windows refuses FlushFileBuffers on a handle without write access ("Access denied").
func (t *Target) Sync() error {
	if !t.writable {
		return nil
	}
	return t.dev.Sync()
}

// Inspect looks at a target without changing anything.
func Inspect(path string) (*Info, error) {
	if path == "" {
		return nil, errors.New("no target given: use --target IMAGE-FILE or a disk such as " + exampleDisk)
	}
	if isDevicePath(path) {
		return inspectDisk(path)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &Info{Path: path, Kind: ImageFile, Sparse: sparseSupported(filepath.Dir(path))}, nil
	case err != nil:
		return nil, err
	case st.IsDir():
		return nil, &RefusedError{Path: path, Reason: "it is a directory", Hint: "give an image file name (created when absent, with --size) or a disk"}
	case st.Mode()&os.ModeDevice != 0:
		return inspectDisk(path)
	case !st.Mode().IsRegular():
		return nil, &RefusedError{Path: path, Reason: "it is neither a regular file nor a disk"}
	}
	info := &Info{Path: path, Kind: ImageFile, Exists: true, Size: st.Size()}
	if err := inspectImageUse(info); err != nil {
		return nil, err
	}
	return info, nil
}

// Check applies the safety rules for the given options to an inspected target.
func (i *Info) Check(opt Options) error {
	if i.Kind == ImageFile {
		if !i.Exists && opt.CreateSize <= 0 {
			return &RefusedError{Path: i.Path, Reason: "the image file does not exist", Hint: "give --size to create it (for example --size 8GiB)"}
		}
		if opt.Write {
			return i.checkInUse(opt)
		}
		return nil
	}
	if i.System != "" {
		return &RefusedError{Path: i.Path, Reason: "it holds the running system (" + i.System + ")", Hint: "plug in the USB drive and give its device"}
	}
	if opt.Write {
		if err := i.checkInUse(opt); err != nil {
			return err
		}
		if !i.Removable && !opt.AllowFixed {
			return &RefusedError{Path: i.Path, Reason: "it is not a removable disk" + i.describe(),
				Hint: "check that this is the drive you mean; to use a fixed disk anyway, add --allow-fixed"}
		}
		if i.Size > FixedLimit && !opt.AllowFixed {
			return &RefusedError{Path: i.Path, Reason: fmt.Sprintf("it is larger than 2 TB (%s)%s", bytesize.FormatDecimal(i.Size), i.describe()),
				Hint: "a USB stick is rarely this big: check the device; to use it anyway, add --allow-fixed"}
		}
	}
	return nil
}

func (i *Info) describe() string {
	var parts []string
	if i.Model != "" {
		parts = append(parts, i.Model)
	}
	if i.Transport != "" {
		parts = append(parts, i.Transport)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// checkInUse refuses a target the kernel is using: two writers corrupt a filesystem.
func (i *Info) checkInUse(opt Options) error {
	for _, m := range i.Mounts {
		return &RefusedError{Path: i.Path, Reason: "it is mounted at " + m, Hint: "unmount it first (umount " + m + ")"}
	}
	for _, h := range i.Holders {
		return &RefusedError{Path: i.Path, Reason: "it is in use by " + h, Hint: holderHint(h)}
	}
	for _, p := range i.Partitions {
		if opt.Partition != 0 && p.Number != opt.Partition {
			continue
		}
		if autoUnmount && opt.Partition == 0 {
			continue // macOS and Windows: unmounted or dismounted by Open, after the plan was accepted
		}
		for _, m := range p.Mounts {
			return &RefusedError{Path: i.Path, Reason: fmt.Sprintf("partition %s is mounted at %s", p.Path, m), Hint: "unmount it first (" + unmountHint(m) + ")"}
		}
		for _, h := range p.Holders {
			return &RefusedError{Path: i.Path, Reason: fmt.Sprintf("partition %s is in use by %s", p.Path, h), Hint: holderHint(h)}
		}
	}
	return nil
}

func holderHint(h string) string {
	switch {
	case strings.HasPrefix(h, "LUKS volume "):
		name := strings.Fields(strings.TrimPrefix(h, "LUKS volume "))[0]
		return "unmount what is on it and close it first (cryptsetup close " + name + ")"
	case strings.HasPrefix(h, "LVM"):
		return "deactivate the volume group first (vgchange -an)"
	case strings.HasPrefix(h, "RAID"):
		return "stop the array first (mdadm --stop)"
	case strings.HasPrefix(h, "loop"):
		return "detach the loop device first (losetup -d)"
	}
	return "stop what uses it first"
}

// Open inspects the target again, applies the checks, compares the identity with
// opt.Expect, and opens it.
func Open(path string, opt Options) (*Target, error) {
	info, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	if err := info.Check(opt); err != nil {
		return nil, err
	}
	if opt.Expect != nil && info.Kind == BlockDevice {
		got := info.Identity()
		if got.Serial != opt.Expect.Serial || got.Size != opt.Expect.Size || got.Model != opt.Expect.Model {
			return nil, &RefusedError{Path: path, Reason: fmt.Sprintf("it is no longer the disk that was planned (was %s serial %q %s; now %s serial %q %s)",
				opt.Expect.Model, opt.Expect.Serial, bytesize.FormatDecimal(opt.Expect.Size), got.Model, got.Serial, bytesize.FormatDecimal(got.Size)),
				Hint: "a replugged drive can come back under another name: run the command again and check the plan"}
		}
	}
	var dev rawDevice
	if info.Kind == ImageFile {
		dev, err = openImage(info, opt)
	} else {
		dev, err = openDisk(info, opt)
	}
	if err != nil {
		return nil, err
	}
	return &Target{info: *info, dev: dev, writable: opt.Write}, nil
}

func openImage(info *Info, opt Options) (rawDevice, error) {
	flag := os.O_RDONLY
	if opt.Write {
		flag = os.O_RDWR
	}
	if !info.Exists {
		// O_EXCL: never clobber a file that appeared since the plan
		f, err := os.OpenFile(info.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		if info.Sparse {
			if err := makeSparse(f); err != nil {
				info.Sparse = false
			}
		}
		if err := f.Truncate(opt.CreateSize); err != nil {
			f.Close()
			os.Remove(info.Path)
			return nil, fmt.Errorf("creating %s: %w", info.Path, err)
		}
		info.Exists, info.Size = true, opt.CreateSize
		return f, nil
	}
	f, err := os.OpenFile(info.Path, flag, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}
