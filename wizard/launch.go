package wizard

import (
	"strings"
	"time"
)

// StartedFromFileManager reports whether travelkit, run without arguments, was started by
// a double-click in the file manager rather than typed in a terminal: then it opens the
// wizard instead of printing its help. How each system tells: see the *DoubleClicked
// functions.
func StartedFromFileManager() bool { return startedFromFileManager() }

// windowsDoubleClicked: Explorer starts a console program with a console of its own; a
// program started from cmd or PowerShell shares their console (GetConsoleProcessList
// counts both).
func windowsDoubleClicked(consoleProcesses int) bool { return consoleProcesses == 1 }

// proc is a process as macOS's sysctl describes it.
type proc struct {
	name  string
	start time.Time
}

// macDoubleClicked: the Finder hands a Unix program to Terminal, which opens a window
// with a new login shell (started by login) that runs it at once. Typed in a terminal,
// the program starts long after its shell. termProgram is $TERM_PROGRAM.
func macDoubleClicked(self, shell, shellParent proc, termProgram string) bool {
	name := strings.TrimPrefix(shell.name, "-")
	isShell := name == "zsh" || name == "bash" || name == "sh" || name == "fish" || name == "tcsh" || name == "ksh"
	return termProgram == "Apple_Terminal" && isShell && shellParent.name == "login" &&
		!shell.start.IsZero() && self.start.Sub(shell.start) >= 0 && self.start.Sub(shell.start) < 3*time.Second
}

// linuxDoubleClicked: a file manager that runs a program (Dolphin, Thunar, Nautilus with
// executable files allowed) gives it no terminal, in a desktop session.
func linuxDoubleClicked(stdinTerminal, stdoutTerminal bool, display, wayland string) bool {
	return !stdinTerminal && !stdoutTerminal && (display != "" || wayland != "")
}
