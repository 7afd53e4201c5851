//go:build linux || darwin || freebsd || netbsd || openbsd

package repo

import (
	"os"

	"golang.org/x/sys/unix"
)

// checkFD checks the descriptor fd that an open of p gave without following a
// link and without waiting (O_NOFOLLOW|O_NONBLOCK, and O_DIRECTORY for a
// folder): fstat, into st, must find a folder (dir) or a regular file, or fd is
// closed and the file refused (NotFolderError, NotRegularError: a named pipe, a
// device, a folder or a file put in place of what the walk found). Then, unless
// flags is negative, the file's status flags are set to flags (F_SETFL:
// O_NONBLOCK cleared before the reads; Linux keeps O_NOATIME so). On any error
// fd is closed. Each system call is tried again when a signal interrupted it.
func checkFD(fd int, p string, st *unix.Stat_t, dir bool, flags int) error {
	var err error
	for {
		err = unix.Fstat(fd, st)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if m := typeMode(uint32(st.Mode)); dir && !m.IsDir() || !dir && !m.IsRegular() {
		unix.Close(fd)
		return notKind(p, m, dir, nil)
	}
	if flags < 0 {
		return nil
	}
	for {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return &os.PathError{Op: "fcntl", Path: p, Err: err}
	}
	return nil
}

// typeMode is the os.FileMode of a stat structure's st_mode, as os.Lstat makes
// it: the file type and the permission, setuid, setgid and sticky bits.
func typeMode(mode uint32) os.FileMode {
	m := os.FileMode(mode & 0o777)
	switch mode & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= os.ModeDevice
	case unix.S_IFCHR:
		m |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFDIR:
		m |= os.ModeDir
	case unix.S_IFIFO:
		m |= os.ModeNamedPipe
	case unix.S_IFLNK:
		m |= os.ModeSymlink
	case unix.S_IFSOCK:
		m |= os.ModeSocket
	}
	if mode&unix.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if mode&unix.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if mode&unix.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}
