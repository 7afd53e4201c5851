package testservers

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listening says who listens on TCP port of the loopback: ours when process pid holds
// a listening socket of that port; otherwise other names a process of the machine that
// does ("pid N (comm)", or "a process this user cannot see"), "" when none listens.
// From /proc/net/tcp and tcp6 (the sockets' inodes) and /proc/PID/fd (which process
// holds them). The servers here listen in their first process (sshd -D, rclone,
// versitygw), so pid's own descriptors are enough.
func listening(port, pid int) (ours bool, other string) {
	inodes := listenInodes(port)
	if len(inodes) == 0 {
		return false, ""
	}
	for _, ino := range inodes {
		if holds(pid, ino) {
			return true, ""
		}
	}
	return false, holder(inodes)
}

// listenInodes are the inodes of the sockets in state LISTEN on port (any address).
func listenInodes(port int) []string {
	var inodes []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fl := strings.Fields(line)
			if len(fl) < 10 || fl[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(fl[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
				inodes = append(inodes, fl[9])
			}
		}
	}
	return inodes
}

// holds says whether process pid has a descriptor of the socket with inode ino.
func holds(pid int, ino string) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	want := "socket:[" + ino + "]"
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && l == want {
			return true
		}
	}
	return false
}

// holder names a process holding one of the sockets, for an error message.
func holder(inodes []string) string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		for _, ino := range inodes {
			if holds(pid, ino) {
				comm, _ := os.ReadFile(filepath.Join(p, "comm"))
				return fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm)))
			}
		}
	}
	return "a process this user cannot see"
}
