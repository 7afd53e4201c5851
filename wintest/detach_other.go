//go:build !unix

package wintest

import "os/exec"

// detach: Wine runs on Unix hosts only.
func detach(cmd *exec.Cmd) {}
