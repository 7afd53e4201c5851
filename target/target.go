package target

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"travelkit/i18n"
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
	Holders []Holder // device-mapper / RAID devices built on it
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
	Holders    []Holder // whole-disk holders
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
	Reason string // in English
	Hint   string // in English; "" when none
	// ReasonMsg and HintMsg are Reason and Hint as messages of the catalogue, for the
	// person's language (Key "" / nil: only the English text exists)
	ReasonMsg i18n.Message
	HintMsg   *i18n.Message
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
		return nil, errorf(nil, "target.error.no_target", exampleDisk)
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
		return nil, refused(path, i18n.M("target.refused.directory"), i18n.M("target.hint.directory"))
	case st.Mode()&os.ModeDevice != 0:
		return inspectDisk(path)
	case !st.Mode().IsRegular():
		return nil, refused(path, i18n.M("target.refused.not_file_or_disk"), noHint)
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
			return NoImageError(i.Path)
		}
		if opt.Write {
			return i.checkInUse(opt)
		}
		return nil
	}
	if i.System != "" {
		return refused(i.Path, i18n.M("target.refused.system", i.System), i18n.M("target.hint.system"))
	}
	if opt.Write {
		if err := i.checkInUse(opt); err != nil {
			return err
		}
		if !i.Removable && !opt.AllowFixed {
			return refused(i.Path, i18n.M("target.refused.not_removable", i.describe()),
				i18n.M("target.hint.not_removable", "--allow-fixed"))
		}
		if i.Size > FixedLimit && !opt.AllowFixed {
			return refused(i.Path, i18n.M("target.refused.too_large", bytesize.FormatDecimal(i.Size), i.describe()),
				i18n.M("target.hint.too_large", "--allow-fixed"))
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
		return refused(i.Path, i18n.M("target.refused.mounted", m), i18n.M("target.hint.unmount", "umount "+m))
	}
	for _, h := range i.Holders {
		return refused(i.Path, i18n.M("target.refused.in_use", h.Message()), holderHint(h))
	}
	for _, p := range i.Partitions {
		if opt.Partition != 0 && p.Number != opt.Partition {
			continue
		}
		if autoUnmount && opt.Partition == 0 {
			continue // macOS and Windows: unmounted or dismounted by Open, after the plan was accepted
		}
		for _, m := range p.Mounts {
			return refused(i.Path, i18n.M("target.refused.partition_mounted", p.Path, m), i18n.M("target.hint.unmount", unmountHint(m)))
		}
		for _, h := range p.Holders {
			return refused(i.Path, i18n.M("target.refused.partition_in_use", p.Path, h.Message()), holderHint(h))
		}
	}
	return nil
}

func holderHint(h Holder) i18n.Message {
	switch {
	case h.Kind == "crypt":
		return i18n.M("target.hint.close_volume", "cryptsetup close "+h.Name)
	case h.Kind == "lvm":
		return i18n.M("target.hint.volume_group", "vgchange -an")
	case h.Kind == "raid":
		return i18n.M("target.hint.raid", "mdadm --stop")
	case strings.HasPrefix(h.Name, "loop"):
		return i18n.M("target.hint.loop", "losetup -d")
	}
	return i18n.M("target.hint.stop_user")
}

// ImageSizeError refuses an existing image file of another size than the one asked for.
func ImageSizeError(path string, size int64) *RefusedError {
	return refused(path, i18n.M("target.refused.image_size", strconv.FormatInt(size, 10)), i18n.M("target.hint.image_size", "--size"))
}

// NoImageError refuses an image file that does not exist when no size to create it is given.
func NoImageError(path string) *RefusedError {
	return refused(path, i18n.M("target.refused.no_image"), i18n.M("target.hint.no_image", "--size", "--size 8GiB"))
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
			return nil, refused(path, i18n.M("target.refused.replugged",
				opt.Expect.Model, opt.Expect.Serial, bytesize.FormatDecimal(opt.Expect.Size), got.Model, got.Serial, bytesize.FormatDecimal(got.Size)),
				i18n.M("target.hint.replugged"))
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
			return nil, errorf(err, "target.error.create", info.Path, err)
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
