package target

import (
	"encoding/binary"
	"io"
	"os"
	"strings"
)

// DeviceSize returns the size of an open file or disk (\\.\PhysicalDriveN, \\.\X:).
func DeviceSize(f *os.File) (int64, error) {
	if !strings.HasPrefix(f.Name(), `\\.\`) {
		return f.Seek(0, io.SeekEnd)
	}
	out := make([]byte, 8)
	if _, err := (realWindows{}).DeviceIoControl(winHandle(f.Fd()), ioctlDiskGetLengthInfo, nil, out); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(out)), nil
}

// NeedsAlignment reports whether I/O on path must be in whole blocks: raw disks and volumes.
func NeedsAlignment(path string) bool { return strings.HasPrefix(path, `\\.\`) }
