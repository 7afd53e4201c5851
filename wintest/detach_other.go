//go:build !unix

package wintest

import "os/exec"

// detach: Wine runs on Unix hosts only.
func detach(cmd *exec.Cmd) {}

// killGroup kills cmd's process.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
