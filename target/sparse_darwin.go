package target

import (
	"os"

	"golang.org/x/sys/unix"
)

// sparseSupported reports whether a new image file in dir will be sparse (APFS).
func sparseSupported(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return darwinSparse(unix.ByteSliceToString(st.Fstypename[:]))
}

// makeSparse does nothing: APFS files are sparse by themselves.
func makeSparse(f *os.File) error { return nil }
