//go:build darwin || freebsd || netbsd || openbsd

package repo

import (
	"os"

	"golang.org/x/sys/unix"
)

// openSource opens a file the walk found regular, to back it up, and refuses
// anything else put in its place since, as on Linux (walk_linux.go): a symlink
// is not followed (O_NOFOLLOW), a named pipe or a device is opened without
// waiting (O_NONBLOCK), seen by fstat and closed unread; NotRegularError says
// so. O_NONBLOCK is cleared before the reads (F_SETFL 0: the file is opened with
// no other status flag). os.NewFile then keeps it out of the poller, as
// os.Open does for a regular file.
func openSource(p string) (sourceFile, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		// O_NOFOLLOW's refusal of a symlink is ELOOP on macOS and OpenBSD,
		// EMLINK on FreeBSD, EFTYPE on NetBSD: symlinkRefused looks
		return nil, symlinkRefused(p, err)
	}
	var st unix.Stat_t
	if err := checkFD(fd, p, &st, 0); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), p), nil
}
