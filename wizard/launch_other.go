//go:build !windows && !darwin

package wizard

import (
	"os"

	"golang.org/x/term"
)

func startedFromFileManager() bool {
	return linuxDoubleClicked(term.IsTerminal(int(os.Stdin.Fd())), term.IsTerminal(int(os.Stdout.Fd())), os.Getenv("DISPLAY"), os.Getenv("WAYLAND_DISPLAY"))
}
