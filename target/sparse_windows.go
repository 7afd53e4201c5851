package target

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// sparseSupported reports whether a new image file in dir will be sparse: the volume
// holding dir supports sparse files.
func sparseSupported(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	p, err := windows.UTF16PtrFromString(abs)
	if err != nil {
		return false
	}
	root := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumePathName(p, &root[0], uint32(len(root))); err != nil {
		return false
	}
	var flags uint32
	if err := windows.GetVolumeInformation(&root[0], nil, 0, nil, nil, &flags, nil, 0); err != nil {
		return false
	}
	return windowsSparse(flags)
}

// makeSparse marks the new image file sparse (NTFS); elsewhere it fails and the file
// is allocated whole, as the plan said.
func makeSparse(f *os.File) error { return setSparse(realWindows{}, winHandle(f.Fd())) }
