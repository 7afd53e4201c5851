//go:build !windows && !darwin

package wizard

import (
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/term"
)

func realDeps() deps {
	return deps{
		goos:       runtime.GOOS,
		lookPath:   exec.LookPath,
		getenv:     os.Getenv,
		isTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		run:        runCommand,
		start:      startCommand,
	}
}
