package wintest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Wine is a prepared Wine prefix.
type Wine struct {
	Loader string   // the 64-bit loader, /usr/lib/wine/wine64
	Prefix string   // WINEPREFIX
	Env    []string // WINEPREFIX=..., WINEDEBUG=-all, WINEDLLOVERRIDES=...
	// ServerTmp is the TMPDIR of every Wine program the tests run (Command, and the
	// scripts' wtk and wrestic): Debian's Wine keeps the wineserver's socket in
	// $TMPDIR/<the name in $WINEPREFIX/wineserver>/server-DEV-INODE, so programs of one
	// prefix with another TMPDIR get a wineserver of their own on the same prefix (see
	// scripts/wine/README.md). The test process's temporary folder, as setup.sh had it.
	ServerTmp string
}

var (
	setupOnce sync.Once
	setupWine *Wine
	setupErr  error
)

// ProjectRoot is the folder holding go.mod.
func ProjectRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// Setup prepares the prefix named by $TRAVELKIT_WINEPREFIX, or
// /var/cache/travelkit-test/wine, once per process.
func Setup() (*Wine, error) {
	setupOnce.Do(func() {
		cmd := exec.Command(filepath.Join(ProjectRoot(), "scripts", "wine", "setup.sh"), "--lines")
		cmd.Env = os.Environ()
		if p := os.Getenv("TRAVELKIT_WINEPREFIX"); p != "" {
			cmd.Env = append(cmd.Env, "WINEPREFIX="+p)
		} else {
			cmd.Env = append(cmd.Env, "WINEPREFIX=/var/cache/travelkit-test/wine")
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			setupErr = fmt.Errorf("scripts/wine/setup.sh: %v\n%s", err, errb.String())
			return
		}
		w := &Wine{ServerTmp: os.TempDir()}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				continue
			}
			switch k {
			case "WINE":
				w.Loader = v
			case "WINEPREFIX":
				w.Prefix = v
				w.Env = append(w.Env, sc.Text())
			default:
				w.Env = append(w.Env, sc.Text())
			}
		}
		if w.Loader == "" || w.Prefix == "" {
			setupErr = fmt.Errorf("scripts/wine/setup.sh printed no loader or prefix:\n%s", out)
			return
		}
		setupWine = w
	})
	return setupWine, setupErr
}

// Command runs a Windows program under Wine. The environment holds the Wine
// settings, TRAVELKIT_WINE=1 (see internal/winetest) and extra.
func (w *Wine) Command(exe string, args []string, extra ...string) *exec.Cmd {
	cmd := exec.Command(w.Loader, append([]string{exe}, args...)...)
	cmd.Env = append(append(append(os.Environ(), w.Env...), "TRAVELKIT_WINE=1", "TMPDIR="+w.ServerTmp), extra...)
	// a session of its own, without a controlling terminal: Wine opens /dev/tty for the
	// console, and a test run in the background of a terminal would be stopped (SIGTTIN)
	detach(cmd)
	return cmd
}

// CommandContext is Command whose program, and every Windows program it started, is
// killed when ctx ends; Wait then returns at most waitDelay later even if something
// still holds the output pipes.
func (w *Wine) CommandContext(ctx context.Context, waitDelay time.Duration, exe string, args []string, extra ...string) *exec.Cmd {
	cmd := w.Command(exe, args, extra...)
	ctxCmd := exec.CommandContext(ctx, cmd.Path)
	ctxCmd.Args, ctxCmd.Env, ctxCmd.SysProcAttr = cmd.Args, cmd.Env, cmd.SysProcAttr
	ctxCmd.Cancel = func() error { return killGroup(ctxCmd) }
	ctxCmd.WaitDelay = waitDelay
	return ctxCmd
}

// Path is the Windows form of a host path: Wine's drive Z: is the host's /.
func Path(unix string) string {
	abs, err := filepath.Abs(unix)
	if err != nil {
		abs = unix
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// CDrive makes a new empty folder on the prefix's drive C: and returns its
// Windows path (C:\travelkit-test\NAME...) and its host path.
func (w *Wine) CDrive(name string) (win, unix string, err error) {
	base := filepath.Join(w.Prefix, "drive_c", "travelkit-test")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", "", err
	}
	unix, err = os.MkdirTemp(base, name+"-")
	if err != nil {
		return "", "", err
	}
	return `C:\travelkit-test\` + filepath.Base(unix), unix, nil
}

// built is what a build script of scripts/wine printed (a path), run once per process.
type built struct {
	once sync.Once
	path string
	err  error
}

func (b *built) get(script string) (string, error) {
	b.once.Do(func() {
		cmd := exec.Command(filepath.Join(ProjectRoot(), "scripts", "wine", script))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			b.err = fmt.Errorf("scripts/wine/%s: %v\n%s", script, err, errb.String())
			return
		}
		b.path = strings.TrimSpace(string(out))
	})
	return b.path, b.err
}

var resticBuilt, ageBuilt built

// ResticExe returns restic for windows/amd64, built once by scripts/wine/build-restic.sh.
func ResticExe() (string, error) { return resticBuilt.get("build-restic.sh") }

// AgeDir returns the folder holding age.exe and age-keygen.exe for windows/amd64, at
// go.mod's version of filippo.io/age, built once by scripts/wine/build-age.sh: builder's
// and kit's tests make keys and open escrow files with them, as with Debian's age on Linux.
func AgeDir() (string, error) { return ageBuilt.get("build-age.sh") }

// BuildWindows builds a package's main program, or with test set its test
// binary, for windows/amd64 into dir and returns the .exe's path. Test
// binaries get the wine tag and may link internal/winetest's switch.
func BuildWindows(pkg, dir string, test bool) (string, error) {
	name := strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "-")
	var args []string
	if test {
		name += ".test.exe"
		args = []string{"test", "-c", "-tags", "wine", "-ldflags=-checklinkname=0", "-o", filepath.Join(dir, name), pkg}
	} else {
		name += ".exe"
		args = []string{"build", "-trimpath", "-o", filepath.Join(dir, name), pkg}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ProjectRoot()
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return filepath.Join(dir, name), nil
}
