package repo

import (
	"os"

	"golang.org/x/sys/unix"
)

// preallocate reserves size bytes for a file about to be written in pieces,
// so that the file system places it in few extents; the size is set too.
func preallocate(f *os.File, size int64) error {
	if size > 0 && unix.Fallocate(int(f.Fd()), 0, 0, size) == nil {
		return nil
	}
	return f.Truncate(size)
}
