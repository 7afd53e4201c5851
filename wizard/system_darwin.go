package wizard

import (
	"os"
	"os/exec"

	"golang.org/x/term"
)

func realDeps() deps {
	return deps{
		goos:       "darwin",
		lookPath:   exec.LookPath,
		getenv:     os.Getenv,
		isTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		run:        runCommand,
		start:      startCommand,
	}
}
