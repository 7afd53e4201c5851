package repo

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// syncDir does nothing on Windows, as in restic: FlushFileBuffers refuses a
// folder's handle ("Access denied"), and NTFS journals a rename itself.
func syncDir(dir string) error { return nil }

// setReadOnly leaves the file as it is on Windows, as restic does: the
// read-only attribute only stands in the way of removing it later.
func setReadOnly(p string) error { return nil }

// openShared opens a file for reading and lets others delete or rename it
// meanwhile (FILE_SHARE_DELETE, which os.Open leaves out), so that prune can
// remove a pack file whose handle is still cached.
func openShared(p string) (*os.File, error) {
	long := p
	if len(p) >= 248 && filepath.VolumeName(p) != "" && len(filepath.VolumeName(p)) == 2 {
		long = `\\?\` + filepath.Clean(p) // as os.Open does for long paths
	}
	name, err := windows.UTF16PtrFromString(long)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return os.NewFile(uintptr(h), p), nil
}
