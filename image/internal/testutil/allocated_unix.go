//go:build unix

package testutil

import (
	"syscall"
	"testing"
)

// Allocated returns the disk space a (sparse) file really uses.
func Allocated(t testing.TB, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}
