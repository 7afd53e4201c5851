//go:build !unix

package testutil

import (
	"os"
	"testing"
)

// Allocated returns the file's size: this platform's stat does not count allocated blocks.
func Allocated(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
