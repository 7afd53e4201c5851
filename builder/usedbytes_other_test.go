//go:build !unix && !windows

package builder_test

import (
	"os"
	"testing"
)

// usedBytes is the file's size: this platform's stat does not count allocated blocks.
func usedBytes(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
