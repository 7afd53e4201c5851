package target

import (
	"errors"
	"os"
)

// Volume is an opened device that holds one volume and no partition table of travelkit's:
// a LUKS container file, or a partition's or a device-mapper device's block device
// (/dev/sdb2), as `travelkit luks` and cryptsetup take them. A kit's partition is opened
// with Open and Options.Partition instead, behind the checks for whole disks; OpenVolume
// is the one other way travelkit opens a device.
type Volume struct {
	F     *os.File
	IO    ReadWriterAt // F, or F behind whole-block read-modify-write where the device needs it
	Size  int64
	Block bool // a block or character device, not a regular file
}

var (
	// ErrIsDir: the path given is a folder.
	ErrIsDir = errors.New("it is a directory")
	// ErrWriteProtected: a device with the kernel's read-only flag set (a write-protected
	// card, `losetup -r`, `blockdev --setro`), asked for writing: it opens read-write, but
	// every write would fail.
	ErrWriteProtected = errors.New("the device is write-protected")
	// ErrNoSize: a device that reports a size of 0 bytes.
	ErrNoSize = errors.New("the device reports 0 bytes")
)

// OpenVolume opens path for reading, or for reading and writing. On Linux a block device
// opened for writing is opened exclusively, so the kernel refuses it (EBUSY) while it is
// mounted or held by device-mapper. Errors from the system keep their type (fs.ErrNotExist,
// fs.ErrPermission, syscall.EBUSY, ...) for the caller to explain.
func OpenVolume(path string, write bool) (*Volume, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, ErrIsDir
	}
	device := st.Mode()&os.ModeDevice != 0
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
		if device && st.Mode()&os.ModeCharDevice == 0 {
			flag |= exclusiveFlag
		}
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	if write && device && writeProtected(f) {
		f.Close() // opened only to ask: nothing to lose
		return nil, ErrWriteProtected
	}
	size, err := DeviceSize(f)
	if err != nil {
		f.Close() // opened only to ask: nothing to lose
		return nil, errorf(err, "target.error.size", path, err)
	}
	if size == 0 && device {
		f.Close() // opened only to ask: nothing to lose
		return nil, ErrNoSize
	}
	v := &Volume{F: f, IO: f, Size: size, Block: device}
	if NeedsAlignment(path) {
		v.IO = Aligned(f, 4096)
	}
	return v, nil
}
