//go:build !linux && !darwin && !windows

package target

import (
	"io"
	"os"
)

// DeviceSize returns the size of an open file.
func DeviceSize(f *os.File) (int64, error) { return f.Seek(0, io.SeekEnd) }

// NeedsAlignment: never here.
func NeedsAlignment(path string) bool { return false }
