//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package repo

import (
	"errors"
	"os"
)

func statNode(n *Node, fi os.FileInfo) {
	n.AccessTime = fi.ModTime()
	n.ChangeTime = fi.ModTime()
}

func restoreOwner(path string, n *Node) error { return nil }

func setTimes(path string, n *Node) error {
	if n.Type == NodeSymlink {
		return nil
	}
	at := n.AccessTime
	if at.IsZero() {
		at = n.ModTime
	}
	return os.Chtimes(path, at, n.ModTime)
}

func mkfifo(path string, mode uint32) error { return errors.New("fifos are not supported here") }

// processAlive reports whether a process with pid runs on this machine
// (on Windows, FindProcess opens the process and fails when it is gone).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
