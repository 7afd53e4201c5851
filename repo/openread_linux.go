package repo

import (
	"errors"
	"os"
	"syscall"
)

// openRead opens a file or folder to back it up without changing its access time
// (O_NOATIME, as restic and borg do): the access times stay the person's own, and an
// unchanged folder gives the same tree in the next backup (with its files' access
// times changed by the backup's own reads, every tree of an incremental was new). The
// flag is refused for a file that is neither the user's nor root's to read so: it is
// then opened as usual.
func openRead(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOATIME, 0)
	if errors.Is(err, syscall.EPERM) {
		return os.Open(p)
	}
	return f, err
}
