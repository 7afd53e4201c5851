package beneath

import (
	"os"

	"golang.org/x/sys/unix"
)

// Space reports the room left on the file system holding d. NetBSD has statvfs, not
// statfs; its free blocks count in fragments (Frsize). Not a shipped platform: this
// keeps its build working.
func (d *Dir) Space() (Space, error) {
	var st unix.Statvfs_t
	if err := unix.Fstatvfs1(d.fd, &st, unix.ST_WAIT); err != nil {
		return Space{}, &os.PathError{Op: "statvfs", Path: d.path, Err: err}
	}
	return Space{Bytes: uint64(st.Bavail) * uint64(st.Frsize), Files: uint64(st.Ffree), FilesKnown: st.Files > 0}, nil
}
