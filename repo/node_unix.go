//go:build linux || darwin || freebsd || netbsd || openbsd

package repo

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// statNode fills the node fields that come from the OS stat structure.
func statNode(n *Node, fi os.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	n.UID = st.Uid
	n.GID = st.Gid
	n.Inode = uint64(st.Ino)
	n.Links = uint64(st.Nlink)
	if n.Links > 1 && n.Type != NodeDir {
		n.DeviceID = uint64(st.Dev)
	}
	at, ct := statTimes(st)
	n.AccessTime = at
	n.ChangeTime = ct
	if n.Type == NodeDev || n.Type == NodeCharDev {
		n.Device = uint64(st.Rdev)
	}
	n.User = userName(n.UID)
	n.Group = groupName(n.GID)
}

func timespecTime(ts syscall.Timespec) time.Time {
	return time.Unix(int64(ts.Sec), int64(ts.Nsec))
}

// restoreOwner sets uid and gid when running as root; otherwise it does nothing.
func restoreOwner(path string, n *Node) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return os.Lchown(path, int(n.UID), int(n.GID))
}

// setTimes sets atime and mtime without following symlinks.
func setTimes(path string, n *Node) error {
	ts := []unix.Timespec{unix.NsecToTimespec(n.AccessTime.UnixNano()), unix.NsecToTimespec(n.ModTime.UnixNano())}
	if n.AccessTime.IsZero() {
		ts[0] = ts[1]
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func mkfifo(path string, mode uint32) error { return unix.Mkfifo(path, mode) }

// processAlive reports whether a process with pid runs on this machine.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
