package target

import (
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	dkiocGetBlockSize  = 0x40046418 // DKIOCGETBLOCKSIZE
	dkiocGetBlockCount = 0x40086419 // DKIOCGETBLOCKCOUNT
)

// DeviceSize returns the size of an open file or disk (Seek reports 0 for macOS disks).
func DeviceSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Mode()&os.ModeDevice == 0 {
		return f.Seek(0, io.SeekEnd)
	}
	bs, err := unix.IoctlGetInt(int(f.Fd()), dkiocGetBlockSize)
	if err != nil {
		return 0, err
	}
	var count uint64
	if err := ioctlUint64(int(f.Fd()), dkiocGetBlockCount, &count); err != nil {
		return 0, err
	}
	return int64(count) * int64(bs), nil
}

// NeedsAlignment reports whether I/O on path must be in whole blocks: raw disks.
func NeedsAlignment(path string) bool { return strings.HasPrefix(path, "/dev/rdisk") }
