package wizard

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeDeps records the operating system calls of an osSystem.
type fakeDeps struct {
	goos    string
	paths   map[string]bool // programs on PATH
	env     map[string]string
	term    bool
	runErr  error
	execErr error
	calls   []string
}

func (f *fakeDeps) deps() deps {
	return deps{
		goos: f.goos,
		lookPath: func(name string) (string, error) {
			if f.paths[name] {
				return "/usr/bin/" + name, nil
			}
			return "", exec.ErrNotFound
		},
		getenv:     func(k string) string { return f.env[k] },
		isTerminal: func() bool { return f.term },
		run: func(ctx context.Context, interactive bool, name string, args ...string) error {
			f.calls = append(f.calls, strings.Join(append([]string{name}, args...), "|"))
			return f.runErr
		},
		start: func(name string, args ...string) error {
			f.calls = append(f.calls, strings.Join(append([]string{"start", name}, args...), "|"))
			return nil
		},
		shellExecute: func(verb, file, params string) error {
			f.calls = append(f.calls, strings.Join([]string{"shellexecute", verb, file, params}, "|"))
			return f.execErr
		},
	}
}

// Each system asks for administrator rights its own way; a Linux without pkexec and
// without a terminal gets the command to type, not a silent failure.
func TestElevationPerSystem(t *testing.T) {
	for _, c := range []struct {
		name string
		f    fakeDeps
		want Method
	}{
		{"windows", fakeDeps{goos: "windows"}, MethodUAC},
		{"macos", fakeDeps{goos: "darwin"}, MethodMacPrompt},
		{"linux desktop", fakeDeps{goos: "linux", paths: map[string]bool{"pkexec": true, "sudo": true}, env: map[string]string{"DISPLAY": ":0"}}, MethodPkexec},
		{"linux wayland", fakeDeps{goos: "linux", paths: map[string]bool{"pkexec": true}, env: map[string]string{"WAYLAND_DISPLAY": "wayland-0"}}, MethodPkexec},
		{"linux pkexec without a desktop, in a terminal", fakeDeps{goos: "linux", paths: map[string]bool{"pkexec": true, "sudo": true}, term: true}, MethodSudo},
		{"linux terminal, no pkexec", fakeDeps{goos: "linux", paths: map[string]bool{"sudo": true}, env: map[string]string{"DISPLAY": ":0"}, term: true}, MethodSudo},
	} {
		m, err := osSystem{d: c.f.deps()}.Elevation()
		if err != nil || m != c.want {
			t.Errorf("%s: %q %v, want %q", c.name, m, err, c.want)
		}
	}
	f := fakeDeps{goos: "linux", paths: map[string]bool{"sudo": true}, env: map[string]string{"DISPLAY": ":0"}}
	err := osSystem{d: f.deps()}.Elevate(context.Background(), "/media/amina/TRAVELKIT/bin/linux-amd64/travelkit", []string{"wizard"})
	var ne *NoElevationError
	if !errors.As(err, &ne) || ne.Command != "sudo /media/amina/TRAVELKIT/bin/linux-amd64/travelkit wizard" {
		t.Fatalf("no pkexec, no terminal: %v", err)
	}
	if !strings.Contains(err.Error(), "no pkexec") || len(f.calls) != 0 {
		t.Errorf("the message does not say why (%q), or something ran: %v", err, f.calls)
	}
}

// On this Linux, with a PATH that has neither pkexec nor sudo (the real lookups), the
// wizard says so and gives the command to type.
func TestElevationAbsentHere(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the real lookups of Linux")
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DISPLAY", ":0")
	_, err := OS().Elevation()
	var ne *NoElevationError
	if !errors.As(err, &ne) || !strings.HasPrefix(ne.Command, "sudo ") || !strings.HasSuffix(ne.Command, " wizard") {
		t.Fatalf("without pkexec: %v", err)
	}
}

// What runs for each method, with the arguments quoted for it, and the ways each says
// "the person said no" become ErrRefused.
func TestElevateCommands(t *testing.T) {
	exe := `C:\Users\Amina Q\Downloads\travelkit.exe`
	args := []string{"wizard", "--handoff", `C:\Temp\tk "1"\`, "--lang", "fa"}
	f := fakeDeps{goos: "windows"}
	if err := (osSystem{d: f.deps()}).Elevate(context.Background(), exe, args); err != nil {
		t.Fatal(err)
	}
	if want := `shellexecute|runas|` + exe + `|wizard --handoff "C:\Temp\tk \"1\"\\" --lang fa`; f.calls[0] != want {
		t.Errorf("windows:\n got %s\nwant %s", f.calls[0], want)
	}
	f = fakeDeps{goos: "windows", execErr: errCancelled}
	if err := (osSystem{d: f.deps()}).Elevate(context.Background(), exe, args); !errors.Is(err, ErrRefused) {
		t.Errorf("UAC answered No: %v", err)
	}

	f = fakeDeps{goos: "darwin"}
	if err := (osSystem{d: f.deps()}).Elevate(context.Background(), "/Volumes/TRAVELKIT/bin/darwin-arm64/travelkit", []string{"wizard", "--home", `/Users/o'brien`}); err != nil {
		t.Fatal(err)
	}
	if want := `/usr/bin/osascript|-e|do shell script "/Volumes/TRAVELKIT/bin/darwin-arm64/travelkit wizard --home '/Users/o'\\''brien'" with administrator privileges`; f.calls[0] != want {
		t.Errorf("macos:\n got %s\nwant %s", f.calls[0], want)
	}

	f = fakeDeps{goos: "linux", paths: map[string]bool{"pkexec": true}, env: map[string]string{"DISPLAY": ":0"}}
	if err := (osSystem{d: f.deps()}).Elevate(context.Background(), "/media/x/travelkit", []string{"wizard", "--lang", "ar"}); err != nil {
		t.Fatal(err)
	}
	if want := "pkexec|/media/x/travelkit|wizard|--lang|ar"; f.calls[0] != want {
		t.Errorf("pkexec: %s", f.calls[0])
	}
	f = fakeDeps{goos: "linux", paths: map[string]bool{"sudo": true}, term: true}
	(osSystem{d: f.deps()}).Elevate(context.Background(), "/media/x/travelkit", []string{"wizard"})
	if want := "sudo|--|/media/x/travelkit|wizard"; f.calls[0] != want {
		t.Errorf("sudo: %s", f.calls[0])
	}

	// pkexec's "dismissed" (126) is a refusal; a program that cannot start is not
	exit126 := exec.Command("/bin/sh", "-c", "exit 126").Run()
	if runtime.GOOS == "linux" {
		if !errors.Is(refused(exit126), ErrRefused) {
			t.Errorf("exit 126: %v", refused(exit126))
		}
	}
	if err := refused(exec.ErrNotFound); errors.Is(err, ErrRefused) {
		t.Errorf("not found taken for a refusal: %v", err)
	}

	// the browser and the file manager
	for goos, want := range map[string]string{
		"windows": "start|rundll32|url.dll,FileProtocolHandler|http://127.0.0.1:1/",
		"darwin":  "start|/usr/bin/open|http://127.0.0.1:1/",
		"linux":   "start|xdg-open|http://127.0.0.1:1/",
	} {
		f := fakeDeps{goos: goos}
		(osSystem{d: f.deps()}).OpenURL("http://127.0.0.1:1/")
		if f.calls[0] != want {
			t.Errorf("%s opens the browser with %s, want %s", goos, f.calls[0], want)
		}
	}
}

// A double-click, told apart from a command typed in a terminal, on each system.
func TestDoubleClicked(t *testing.T) {
	if !windowsDoubleClicked(1) || windowsDoubleClicked(2) {
		t.Error("windows: Explorer gives a console of its own (1 process); cmd shares its console (2)")
	}
	if !linuxDoubleClicked(false, false, ":0", "") || !linuxDoubleClicked(false, false, "", "wayland-0") {
		t.Error("linux: no terminal in a desktop session is a double-click")
	}
	if linuxDoubleClicked(true, true, ":0", "") || linuxDoubleClicked(false, false, "", "") || linuxDoubleClicked(false, true, ":0", "") {
		t.Error("linux: a terminal, or no desktop (a service, a pipe in a script), is not")
	}
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	shell := proc{name: "-zsh", start: t0}
	login := proc{name: "login", start: t0.Add(-time.Second)}
	if !macDoubleClicked(proc{name: "travelkit", start: t0.Add(400 * time.Millisecond)}, shell, login, "Apple_Terminal") {
		t.Error("macos: Terminal's new login shell running travelkit at once is a double-click")
	}
	if macDoubleClicked(proc{name: "travelkit", start: t0.Add(10 * time.Minute)}, shell, login, "Apple_Terminal") {
		t.Error("macos: typed into a shell opened long before is not")
	}
	if macDoubleClicked(proc{name: "travelkit", start: t0.Add(time.Second)}, shell, proc{name: "sshd"}, "") {
		t.Error("macos: over ssh is not")
	}
}
