//go:build !linux

package target

import "os"

// exclusiveFlag: outside Linux O_EXCL has no in-use meaning for devices.
const exclusiveFlag = 0

// writeProtected: elsewhere a read-only device fails to open for writing.
func writeProtected(*os.File) bool { return false }
