package wintest

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// reportToGo writes s to the standard output of the go command that runs this binary,
// the stream where go test prints each package's "ok" line, and reports whether it did.
// It does so only when that output is not this binary's own (go test keeps a package's
// output in a buffer when it has package arguments, and drops it when the package
// passed); with go test streaming the binary's output, or with another parent (go test
// -exec, a binary run by hand), it leaves s to the caller. pidfd_getfd duplicates go's
// own open file, offset and all: a line written to it lands in a log file or pipe as
// go's own would.
func reportToGo(s string) bool {
	ppid := os.Getppid()
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "go" {
		return false
	}
	pidfd, err := unix.PidfdOpen(ppid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, 1, 0)
	if err != nil {
		return false // no permission to ptrace the parent, or a kernel before 5.6
	}
	defer unix.Close(fd)
	var theirs, mine unix.Stat_t
	if unix.Fstat(fd, &theirs) != nil || unix.Fstat(2, &mine) != nil ||
		theirs.Dev == mine.Dev && theirs.Ino == mine.Ino {
		return false // go streams this binary's output: stderr is go's output already
	}
	_, err = unix.Write(fd, []byte(s))
	return err == nil
}
