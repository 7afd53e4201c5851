package wintest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/boot/boottest"
	"travelkit/internal/testservers"
)

// TestWindowsCLI runs the scripts in testdata/script: travelkit.exe under Wine on kit
// images and repository folders, each result checked with the Linux binary, restic for
// Windows and Debian's restic. Besides the standard testscript commands they can use:
//
//	wtk ARGS...            travelkit.exe under Wine (paths: $CDIR is a new folder on C:\)
//	wrestic ARGS...        restic for Windows under Wine
//	tk ARGS...             travelkit for Linux, built from the same source
//	wstatus N CMD ARGS...  run wtk or wrestic and check that it exits with status N
//	mkfile SIZE FILE       a file of SIZE bytes of zeros
//	server KIND NAME       a real sshd, S3 or REST server on 127.0.0.1 (internal/testservers)
//	bootbundle DIR         the synthetic boot bundle (boot/boottest) in DIR
//	wwizard LANG T DIR     travelkit.exe wizard under Wine on kit T, driven over HTTP (wizard_test.go)
//
// and these variables: $CDIR (C:\travelkit-test\NAME, made new for each script),
// $CDIR_UNIX (the same folder on the host), $CSNAP (the folder as a snapshot path,
// /C/travelkit-test/NAME), $WWORK ($WORK as Wine sees it, Z:\...).
// quietOutput (sh -c quietOutput sh CMD ARGS...) runs CMD with its stdout and stderr in
// files under $TMPDIR, then prints them and exits with CMD's status: whatever CMD leaves
// running holds those files, never the caller's pipes.
const quietOutput = `o=$(mktemp) && e=$(mktemp) || exit 125
"$@" >"$o" 2>"$e"
rc=$?
cat "$o"
cat "$e" >&2
rm -f "$o" "$e"
exit $rc`

// cliTimeout bounds each Windows command of the scripts (seconds each under Wine).
const cliTimeout = "5m"

func TestWindowsCLI(t *testing.T) {
	w, err := Setup()
	if err != nil {
		t.Fatal(err)
	}
	restic, err := ResticExe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("restic"); err != nil {
		t.Fatalf("Debian's restic is needed (scripts/install-test-deps.sh installs it): %v", err)
	}
	bin := t.TempDir()
	exe, err := BuildWindows("./cmd/travelkit", bin, false)
	if err != nil {
		t.Fatal(err)
	}
	linux := filepath.Join(bin, "travelkit")
	build := exec.Command("go", "build", "-o", linux, "./cmd/travelkit")
	build.Dir = ProjectRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var cdirs []string
	t.Cleanup(func() {
		for _, d := range cdirs {
			os.RemoveAll(d)
		}
	})
	// wine runs prog in a session of its own (setsid -w waits and passes the exit
	// status on): see Wine.Command. A command still running after cliTimeout is ended
	// by timeout(1) (TERM, KILL 30 s later; exit status 124 or 137), so a hang costs
	// minutes, not the whole test binary's -timeout.
	//
	// Wine's own programs (services.exe, winedevice.exe, ...) are started by the first
	// Windows program of a wineserver with that program's stdout and stderr, in sessions
	// of their own. One of them once outlived its wineserver, stuck with the test's pipe
	// open, and the script waited for that pipe's end for good (CI of 95a202c). So the
	// Windows program writes to files (quietOutput) and only sh and cat hold the pipes.
	//
	// Each script has a TMPDIR of its own ($WORK/.tmp), and Debian's Wine keys the
	// wineserver's socket on TMPDIR: each script had a wineserver of its own on the one
	// prefix, started and ended (-p0) with each of its Windows commands. Wine's programs
	// get the test process's TMPDIR (Wine.ServerTmp) instead, and share one wineserver;
	// the script's own commands keep its TMPDIR.
	wine := func(ts *testscript.TestScript, prog string, args []string) error {
		err := ts.Exec("setsid", append([]string{"-w", "sh", "-c", quietOutput, "sh", "timeout", "-k", "30s", cliTimeout,
			"env", "TMPDIR=" + w.ServerTmp, w.Loader, prog}, args...)...)
		var ee *exec.ExitError
		if errors.As(err, &ee) && (ee.ExitCode() == 124 || ee.ExitCode() == 137) {
			ts.Fatalf("%s %s: still running after %s, ended by timeout(1) (%v)", filepath.Base(prog), strings.Join(args, " "), cliTimeout, err)
		}
		return err
	}
	runWine := func(ts *testscript.TestScript, neg bool, prog string, args []string) {
		err := wine(ts, prog, args)
		if err != nil {
			ts.Logf("[%v]", err)
			if !neg {
				ts.Fatalf("unexpected command failure")
			}
		} else if neg {
			ts.Fatalf("unexpected command success")
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for _, kv := range w.Env {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			env.Setenv("TRAVELKIT_WINE", "1")
			env.Setenv("HOME", env.WorkDir)
			win, unix, err := w.CDrive("cli")
			if err != nil {
				return err
			}
			cdirs = append(cdirs, unix)
			env.Setenv("CDIR", win)
			env.Setenv("CDIR_UNIX", unix)
			env.Setenv("CSNAP", "/C/travelkit-test/"+filepath.Base(unix))
			env.Setenv("WWORK", Path(env.WorkDir))
			return nil
		},
		Cmds: withServers(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"wtk": func(ts *testscript.TestScript, neg bool, args []string) {
				runWine(ts, neg, exe, args)
			},
			"wrestic": func(ts *testscript.TestScript, neg bool, args []string) {
				runWine(ts, neg, restic, args)
			},
			"tk": func(ts *testscript.TestScript, neg bool, args []string) {
				err := ts.Exec(linux, args...)
				if err != nil && !neg {
					ts.Fatalf("tk: %v", err)
				} else if err == nil && neg {
					ts.Fatalf("tk: unexpected success")
				}
			},
			"wstatus": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 || (args[1] != "wtk" && args[1] != "wrestic") {
					ts.Fatalf("usage: wstatus N wtk|wrestic args...")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				prog := exe
				if args[1] == "wrestic" {
					prog = restic
				}
				err = wine(ts, prog, args[2:])
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if got != want {
					ts.Fatalf("exit status %d, want %d", got, want)
				}
			},
			"wwizard": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("wwizard cannot be negated")
				}
				wizardCmd(ts, w, exe, args)
			},
			"bootbundle": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: bootbundle DIR")
				}
				ts.Check(boottest.Write(ts.MkAbs(args[0])))
			},
			"mkfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: mkfile SIZE FILE")
				}
				n, err := strconv.ParseInt(args[0], 10, 64)
				ts.Check(err)
				f, err := os.Create(ts.MkAbs(args[1]))
				ts.Check(err)
				ts.Check(f.Truncate(n))
				ts.Check(f.Close())
			},
		}),
	})
}

// withServers adds the server commands (internal/testservers: real servers on Linux for
// travelkit.exe's SFTP, S3 and REST clients under Wine) to cmds.
func withServers(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	for k, v := range testservers.ScriptCmds() {
		cmds[k] = v
	}
	return cmds
}
