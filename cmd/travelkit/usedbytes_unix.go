//go:build unix

package main

import (
	"os"
	"syscall"
)

// usedBytes is the disk space a (sparse) file really uses.
func usedBytes(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Blocks * 512
	}
	return st.Size()
}
