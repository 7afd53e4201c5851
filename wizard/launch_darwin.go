package wizard

import (
	"bytes"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func procInfo(pid int) (proc, int) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return proc{}, 0
	}
	name := k.Proc.P_comm[:]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	st := k.Proc.P_starttime
	return proc{name: string(name), start: time.Unix(int64(st.Sec), int64(st.Usec)*1000)}, int(k.Eproc.Ppid)
}

func startedFromFileManager() bool {
	self, ppid := procInfo(os.Getpid())
	shell, gppid := procInfo(ppid)
	shellParent, _ := procInfo(gppid)
	return macDoubleClicked(self, shell, shellParent, os.Getenv("TERM_PROGRAM"))
}
