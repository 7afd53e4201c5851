package target

import (
	"io"
	"os"
)

// DeviceSize returns the size of an open file or block device.
func DeviceSize(f *os.File) (int64, error) { return f.Seek(0, io.SeekEnd) }

// NeedsAlignment reports whether I/O on path must be in whole blocks (never on Linux).
func NeedsAlignment(path string) bool { return false }
