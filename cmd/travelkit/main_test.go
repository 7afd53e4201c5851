package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/internal/bytesize"
	"travelkit/internal/testservers"
	"travelkit/repo"
)

func TestMain(m *testing.M) {
	code := testscript.RunMain(m, map[string]func() int{
		"travelkit": func() int { return run(os.Args[1:]) },
	})
	if versioned.dir != "" { // lifecycle_test.go's binaries
		os.RemoveAll(versioned.dir)
	}
	os.Exit(code)
}

// TestScripts runs the command-line scripts in testdata/script. Besides the standard
// testscript commands they can use:
//
//	status N prog args...   run prog and check that it exits with status N
//	mkfile SIZE FILE        create FILE of SIZE bytes (zeros; SIZE as for --size)
//	poke FILE OFFSET        flip the bits of the byte at OFFSET in FILE
//	mklock DIR PWFILE held|stale  put an exclusive lock into the repository DIR: held by
//	                        this (running) test process, or two hours old
//	bootbundle DIR [SIZE]   write the synthetic boot bundle (boot/boottest) into DIR
//
// and the condition [root] (running as root, where file modes do not stop writes).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// the independent AES-XTS of the luks interop tests
			xts, err := filepath.Abs("../../luks/testdata/xts.py")
			env.Setenv("XTS", xts)
			return err
		},
		Cmds: scriptCmds(),
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
	})
}

func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	m := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"status":    cmdStatus,
		"mkfile":    cmdMkfile,
		"poke":      cmdPoke,
		"mklock":    cmdMklock,
		"swtpm":     cmdSWTPM,
		"pcrextend": cmdPCRExtend,
		"partcopy":  cmdPartcopy,
		"partput":   cmdPartput,
		"zero":      cmdZero,
		"pwshout":   cmdPwshOut,
	}
	// bootbundle_test.go
	m["bootbundle"] = cmdBootbundle
	for k, v := range serverCmds { // servers_linux_test.go
		m[k] = v
	}
	for k, v := range testservers.ScriptCmds() { // server sshd|s3|rest NAME ...
		m[k] = v
	}
	return m
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N prog args...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkfile SIZE FILE")
	}
	n, err := bytesize.Parse(args[0])
	ts.Check(err)
	f, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Check(f.Truncate(n))
	ts.Check(f.Close())
}

// cmdPwshOut writes TEXT to FILE as Windows PowerShell 5.1 saves text: utf16 as `>` and
// Out-File do (FF FE, UTF-16 LE, CR LF), utf8bom as Out-File -Encoding utf8 (EF BB BF, CR LF),
// utf16nobom as UTF-16 LE without the byte order mark.
func cmdPwshOut(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: pwshout utf16|utf8bom|utf16nobom FILE TEXT")
	}
	text := args[2] + "\r\n"
	var b []byte
	switch args[0] {
	case "utf16", "utf16nobom":
		if args[0] == "utf16" {
			b = []byte{0xFF, 0xFE}
		}
		for _, u := range utf16.Encode([]rune(text)) {
			b = append(b, byte(u), byte(u>>8))
		}
	case "utf8bom":
		b = append([]byte{0xEF, 0xBB, 0xBF}, text...)
	default:
		ts.Fatalf("pwshout: unknown encoding %q", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o600))
}

func cmdPoke(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: poke FILE OFFSET")
	}
	off, err := strconv.ParseInt(args[1], 0, 64)
	ts.Check(err)
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_RDWR, 0)
	ts.Check(err)
	defer f.Close()
	var b [1]byte
	_, err = f.ReadAt(b[:], off)
	ts.Check(err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b[:], off)
	ts.Check(err)
}

func cmdMklock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: mklock DIR PWFILE held|stale")
	}
	pw, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	pw = bytes.TrimSuffix(bytes.TrimSuffix(pw, []byte("\n")), []byte("\r")) // as --password-file
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.NewFolder(ts.MkAbs(args[0])), pw)
	ts.Check(err)
	host, _ := os.Hostname()
	at := time.Now()
	if args[2] == "stale" {
		at = at.Add(-2 * time.Hour)
	}
	b, err := json.Marshal(map[string]any{"time": at, "exclusive": true, "hostname": host, "username": "test", "pid": os.Getpid()})
	ts.Check(err)
	_, err = r.SaveUnpacked(ctx, repo.LockFile, b)
	ts.Check(err)
}
