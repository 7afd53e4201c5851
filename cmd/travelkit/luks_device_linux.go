package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openFlags adds O_EXCL when a block device is opened for writing: Linux then refuses
// with EBUSY while the device is mounted or held by device-mapper.
func openFlags(st os.FileInfo, write bool) int {
	if write && st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0 {
		return syscall.O_EXCL
	}
	return 0
}

// blockReadOnly reports whether f is a block device with the kernel's read-only flag
// set (a write-protected card, `losetup -r`, `blockdev --setro`): it opens read-write,
// but every write fails.
func blockReadOnly(f *os.File) bool {
	ro, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKROGET)
	return err == nil && ro != 0
}
