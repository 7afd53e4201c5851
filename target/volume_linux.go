package target

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// exclusiveFlag: with O_EXCL Linux refuses to open a block device for writing (EBUSY)
// while it is mounted or held by device-mapper.
const exclusiveFlag = syscall.O_EXCL

// writeProtected reports whether f is a block device with the kernel's read-only flag
// set: it opens read-write, but every write fails.
func writeProtected(f *os.File) bool {
	ro, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKROGET)
	return err == nil && ro != 0
}
