//go:build unix

package builder_test

import (
	"os"
	"syscall"
)

// usedBytes is the disk space a (sparse) file really uses.
func usedBytes(st os.FileInfo) int64 { return st.Sys().(*syscall.Stat_t).Blocks * 512 }
