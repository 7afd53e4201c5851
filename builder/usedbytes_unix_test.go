//go:build unix

package builder_test

import (
	"os"
	"syscall"
	"testing"
)

// usedBytes is the disk space a (sparse) file really uses.
func usedBytes(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Blocks * 512
}
