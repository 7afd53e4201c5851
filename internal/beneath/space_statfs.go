//go:build unix && !netbsd && !openbsd

package beneath

import (
	"os"

	"golang.org/x/sys/unix"
)

// Space reports the room left on the file system holding d.
func (d *Dir) Space() (Space, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(d.fd, &st); err != nil {
		return Space{}, &os.PathError{Op: "statfs", Path: d.path, Err: err}
	}
	return Space{Bytes: uint64(st.Bavail) * uint64(st.Bsize), Files: uint64(st.Ffree), FilesKnown: st.Files > 0}, nil
}
