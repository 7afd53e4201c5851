package wizard

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// System is what the wizard asks of the operating system.
type System interface {
	// OpenURL opens the address in the default browser.
	OpenURL(url string) error
	// OpenFolder shows a folder in the file manager.
	OpenFolder(dir string) error
	// Elevation says how administrator rights would be asked for, or why they cannot be
	// (a *NoElevationError).
	Elevation() (Method, error)
	// Elevate runs exe with args with administrator rights, the way this system asks for
	// them (the person types their computer password), and returns when that copy ends.
	Elevate(ctx context.Context, exe string, args []string) error
}

// Method is a way of asking for administrator rights.
type Method string

// The methods.
const (
	MethodUAC       Method = "uac"       // Windows: ShellExecute with the "runas" verb
	MethodMacPrompt Method = "osascript" // macOS: do shell script ... with administrator privileges
	MethodPkexec    Method = "pkexec"    // Linux with a desktop: polkit's password window
	MethodSudo      Method = "sudo"      // Linux in a terminal
)

// NoElevationError says that this system cannot ask for administrator rights from here,
// and what the person can type instead.
type NoElevationError struct {
	Command string // the command to type in a terminal
}

func (e *NoElevationError) Error() string {
	return "this computer cannot ask for administrator rights from here (no pkexec and no terminal): run " + e.Command
}

// ErrRefused says the person did not give the rights (cancelled the prompt, or a wrong
// password three times).
var ErrRefused = errors.New("administrator rights were not given")

// deps are the operating system calls behind System, replaced in tests.
type deps struct {
	goos       string
	lookPath   func(string) (string, error)
	getenv     func(string) string
	isTerminal func() bool
	// run runs a program and waits for it; interactive ones (sudo) get the terminal.
	run func(ctx context.Context, interactive bool, name string, args ...string) error
	// start starts a program without waiting (a browser, a file manager).
	start func(name string, args ...string) error
	// shellExecute runs ShellExecuteEx (Windows) and waits for the process.
	shellExecute func(verb, file, params string) error
}

type osSystem struct{ d deps }

// OS is this operating system.
func OS() System { return osSystem{d: realDeps()} }

func (s osSystem) OpenURL(url string) error {
	switch s.d.goos {
	case "windows":
		// the browser the person chose, without a console window (as Go's own tools do)
		return s.d.start("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		return s.d.start("/usr/bin/open", url)
	}
	return s.d.start("xdg-open", url)
}

// OpenFolder shows the folder in the file manager. A copy relaunched with administrator
// rights does not call it: it asks the person's own copy to (see handoff.go), since a
// file manager started by root would not be theirs.
func (s osSystem) OpenFolder(dir string) error {
	switch s.d.goos {
	case "windows":
		return s.d.start("explorer", dir)
	case "darwin":
		return s.d.start("/usr/bin/open", dir)
	}
	return s.d.start("xdg-open", dir)
}

func (s osSystem) Elevation() (Method, error) {
	switch s.d.goos {
	case "windows":
		return MethodUAC, nil
	case "darwin":
		return MethodMacPrompt, nil
	}
	graphical := s.d.getenv("DISPLAY") != "" || s.d.getenv("WAYLAND_DISPLAY") != ""
	if _, err := s.d.lookPath("pkexec"); err == nil && graphical {
		return MethodPkexec, nil
	}
	if _, err := s.d.lookPath("sudo"); err == nil && s.d.isTerminal() {
		return MethodSudo, nil
	}
	return "", &NoElevationError{Command: "sudo " + shellQuote("%EXE%") + " wizard"}
}

func (s osSystem) Elevate(ctx context.Context, exe string, args []string) error {
	m, err := s.Elevation()
	if err != nil {
		var ne *NoElevationError
		if errors.As(err, &ne) {
			ne.Command = strings.ReplaceAll(ne.Command, shellQuote("%EXE%"), shellQuote(exe))
		}
		return err
	}
	switch m {
	case MethodUAC:
		return refused(s.d.shellExecute("runas", exe, windowsArgs(args)))
	case MethodMacPrompt:
		return refused(s.d.run(ctx, false, "/usr/bin/osascript", "-e", macScript(exe, args)))
	case MethodPkexec:
		return refused(s.d.run(ctx, false, "pkexec", append([]string{exe}, args...)...))
	case MethodSudo:
		return refused(s.d.run(ctx, true, "sudo", append([]string{"--", exe}, args...)...))
	}
	return fmt.Errorf("unknown elevation %q", m)
}

// refused turns the ways each system says "the person said no" into ErrRefused: pkexec
// exits 126 (dismissed) or 127 (not authorised), sudo 1, osascript reports error -128
// ("User canceled") and exits 1, ShellExecuteEx fails with ERROR_CANCELLED.
func refused(err error) error {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && (ee.ExitCode() == 126 || ee.ExitCode() == 127 || ee.ExitCode() == 1):
		return fmt.Errorf("%w (%v)", ErrRefused, err)
	case errors.Is(err, errCancelled):
		return fmt.Errorf("%w (%v)", ErrRefused, err)
	}
	return err
}

// errCancelled is ERROR_CANCELLED (1223), what ShellExecuteEx returns when the person
// answers No to the UAC prompt.
var errCancelled = syscall.Errno(1223)

// shellQuote quotes a word for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// macScript is the AppleScript that runs exe with args as root after macOS's own
// administrator prompt: the command is quoted for the shell, then as an AppleScript
// string.
func macScript(exe string, args []string) string {
	words := []string{shellQuote(exe)}
	for _, a := range args {
		words = append(words, shellQuote(a))
	}
	cmd := strings.Join(words, " ")
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(cmd)
	return `do shell script "` + esc + `" with administrator privileges`
}

// windowsArgs joins arguments into a Windows command line, quoted as CommandLineToArgvW
// reads them.
func windowsArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(windowsQuote(a))
	}
	return b.String()
}

func windowsQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\v\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, r := range s {
		switch r {
		case '\\':
			slashes++
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			b.WriteByte('"')
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
			b.WriteRune(r)
		}
		slashes = 0
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}
