package main

import (
	"os"
	"syscall"
)

// openFlags adds O_EXCL when a block device is opened for writing: Linux then refuses
// with EBUSY while the device is mounted or held by device-mapper.
func openFlags(st os.FileInfo, write bool) int {
	if write && st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0 {
		return syscall.O_EXCL
	}
	return 0
}
