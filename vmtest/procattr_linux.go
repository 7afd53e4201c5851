package vmtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill qemu (SIGKILL) when the test process that started it
// ends, also when a timeout kills the test binary: no VM is left running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
