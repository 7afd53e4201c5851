package beneath

import (
	"os"

	"golang.org/x/sys/unix"
)

// Space reports the room left on the file system holding d. OpenBSD's statfs names
// its fields F_*. Not a shipped platform: this keeps its build working.
func (d *Dir) Space() (Space, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(d.fd, &st); err != nil {
		return Space{}, &os.PathError{Op: "statfs", Path: d.path, Err: err}
	}
	return Space{Bytes: uint64(st.F_bavail) * uint64(st.F_bsize), Files: uint64(st.F_ffree), FilesKnown: st.F_files > 0}, nil
}
