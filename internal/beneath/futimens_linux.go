package beneath

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdTimes sets the times of the open file fd (name in d, for messages): futimens, no
// name looked up again.
func (d *Dir) fdTimes(fd int, name string, m Meta) error {
	ts := times(m)
	// utimensat with no path is futimens (x/sys has no call for it)
	if _, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0); e != 0 {
		return &os.PathError{Op: "chtimes", Path: pathJoin(d.path, name), Err: e}
	}
	return nil
}
