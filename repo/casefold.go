package repo

import (
	"os"
	"path/filepath"
	"strings"
)

// foldsCase reports whether the file system of dir takes "A" and "a" for one
// name (FAT32, exFAT and NTFS mounted on Linux, ext4 with casefold). It
// creates an empty file with a lower-case name in dir, looks for it under
// the upper-case name, and removes it.
func foldsCase(dir string) bool {
	f, err := os.CreateTemp(dir, ".travelkit-case-probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	base := filepath.Base(name)
	upper := strings.ToUpper(base)
	if upper == base {
		return false
	}
	a, err := os.Lstat(name)
	if err != nil {
		return false
	}
	b, err := os.Lstat(filepath.Join(dir, upper))
	return err == nil && os.SameFile(a, b)
}
