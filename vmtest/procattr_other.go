//go:build !linux

package vmtest

import "os/exec"

// dieWithParent: only Linux has a parent-death signal; the VM tests run on Linux.
func dieWithParent(cmd *exec.Cmd) {}
