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
func openSource(p string) (sourceFile, error) { return openNoFollow(p, false) }

// openFolder opens a folder the walk found, to list it, the same way
// (O_DIRECTORY besides): a symlink, a file or anything else put in its place is
// refused with NotFolderError, never followed.
func openFolder(p string) (*os.File, error) { return openNoFollow(p, true) }

// openNoFollow opens p without following a link or waiting and checks that it
// is a folder (dir) or a regular file (checkFD).
func openNoFollow(p string, dir bool) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY
	if dir {
		flags |= unix.O_DIRECTORY
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(p, flags, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		// O_NOFOLLOW's refusal of a symlink is ELOOP on macOS and OpenBSD,
		// EMLINK on FreeBSD, EFTYPE on NetBSD, O_DIRECTORY's of anything
		// else ENOTDIR: openRefused looks
		return nil, openRefused(p, err, dir)
	}
	var st unix.Stat_t
	if err := checkFD(fd, p, &st, dir, 0); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), p), nil
}
