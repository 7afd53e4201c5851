//go:build unix

package wintest

import (
	"os/exec"
	"syscall"
)

// detach runs cmd in a session of its own, without a controlling terminal.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// killGroup kills cmd's process and every process of its group: the Windows programs a
// Wine program starts are forked from it and stay in its session (wineserver is not: it
// runs in a session of its own).
func killGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
