package wintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// linuxTools are programs some package tests run to compare travelkit with them
// (cryptsetup, ssh-keygen, ...) that have no Windows build here. Such a test runs in
// the Linux suite; under Wine it fails at once with exec's "executable file not found",
// and the harness lists it as left out instead of failing (see classify). restic is not
// among them: the tests that use it get restic for Windows (see ResticExe), nor are age and
// age-keygen (AgeDir).
var linuxTools = map[string]bool{"cryptsetup": true, "ssh-keygen": true,
	"sha256sum": true, "python3": true, "e2fsck": true, "debugfs": true, "mkfs.ext4": true, "sgdisk": true,
	"sfdisk": true, "fsck.vfat": true, "mdir": true, "mcopy": true, "mount": true, "losetup": true,
	"swtpm": true, "swtpm_setup": true, "tpm2_createprimary": true, "borg": true, "openssl": true,
	"ssss-split": true, "ssss-combine": true, "qemu-system-x86_64": true, "blkid": true, "sh": true,
	"bash": true, "dd": true, "truncate": true, "mkfs.vfat": true, "mtype": true, "fsck.ext4": true}

var (
	failRE     = regexp.MustCompile(`^(\s*)--- FAIL: (\S+)`)
	messageRE  = regexp.MustCompile(`^\s+\S+_test\.go:\d+: `)
	streamRE   = regexp.MustCompile(`^=== (?:RUN|CONT|NAME)\s+(\S+)`)
	notFoundRE = regexp.MustCompile(`exec: "([^"]+)": executable file not found in %PATH%`)
	// wineStartRE is Wine failing to start a Windows program: Go's exec got
	// ERROR_INTERNAL_ERROR (1359) from CreateProcess, which Wine's NtCreateUserProcess
	// returns when the new Unix process ended before Wine had set it up (see
	// scripts/wine/README.md). The program never ran.
	wineStartRE = regexp.MustCompile(`fork/exec \S.*: Internal error\.`)
)

// classify reads a test binary's output and returns the top-level tests that failed
// for a real reason; those that only failed because they run a Linux tool: in each
// of its (sub)test reports, the last message (the t.Fatal that stopped it) is exec's
// "not found" for one of linuxTools; and those whose every report ends with Wine
// failing to start a program (wineStartRE), which the harness runs once more.
func classify(out string) (failed, linuxOnly, wineStart []string) {
	type report struct {
		top, name string
		messages  []string
	}
	var reports []*report
	var cur *report
	top := ""
	// with -test.v, a test's messages come before its "--- FAIL" line, after a
	// "=== RUN/CONT/NAME" line that names it
	streamed := map[string][]string{}
	name := ""
	for _, line := range strings.Split(out, "\n") {
		if m := failRE.FindStringSubmatch(line); m != nil {
			if m[1] == "" {
				top = m[2]
			}
			cur = &report{top: top, name: m[2]}
			reports = append(reports, cur)
			continue
		}
		if m := streamRE.FindStringSubmatch(line); m != nil {
			name, cur = m[1], nil
			continue
		}
		if messageRE.MatchString(line) {
			if cur != nil {
				cur.messages = append(cur.messages, line)
			} else if name != "" {
				streamed[name] = append(streamed[name], line)
			}
		}
		if !strings.HasPrefix(line, " ") && line != "" {
			cur = nil // FAIL, ok, PASS, panic: the report is over
		}
	}
	for _, r := range reports {
		if len(r.messages) == 0 {
			r.messages = streamed[r.name]
		}
	}
	const (
		toolOnly = 1 << iota
		startOnly
		bad
	)
	kinds := map[string]int{}
	var order []string
	for _, r := range reports {
		if _, seen := kinds[r.top]; !seen {
			order = append(order, r.top)
			kinds[r.top] = 0
		}
		if len(r.messages) == 0 {
			continue // a parent whose subtests failed
		}
		last := r.messages[len(r.messages)-1]
		if m := notFoundRE.FindStringSubmatch(last); m != nil && linuxTools[filepath.Base(m[1])] {
			kinds[r.top] |= toolOnly
		} else if wineStartRE.MatchString(last) {
			kinds[r.top] |= startOnly
		} else {
			kinds[r.top] |= bad
		}
	}
	for _, name := range order {
		switch kinds[name] {
		case toolOnly:
			linuxOnly = append(linuxOnly, name)
		case startOnly, startOnly | toolOnly:
			wineStart = append(wineStart, name)
		default:
			failed = append(failed, name)
		}
	}
	return failed, linuxOnly, wineStart
}

// winePackages are the packages whose tests run under Wine, each with the -test.timeout
// its binary gets: four to six times its time in CI (repo took 164 s there, drive 28-47 s),
// so that a hang costs minutes, not the CI's limit. The harness kills a binary, with every
// Windows program it started, a minute after that. On a machine loaded far beyond CI
// (load 35 on two cores) repo took longer than this: TRAVELKIT_WINETEST_TIMEOUT=40m then.
var winePackages = []struct {
	pkg     string
	timeout time.Duration
}{
	{"repo", 15 * time.Minute},
	{"builder", 15 * time.Minute},
	{"luks", 8 * time.Minute},
	{"drive", 6 * time.Minute},
	{"kit", 5 * time.Minute},
	{"target", 3 * time.Minute},
	{"internal/beneath", 3 * time.Minute},
	{"internal/scrypt", 3 * time.Minute},
	{"internal/poly1305", 3 * time.Minute},
	{"internal/aesctr", 3 * time.Minute},
	{"internal/sha256x2", 3 * time.Minute},
	{"profile", 3 * time.Minute},
	{"register", 3 * time.Minute},
	{"boot", 3 * time.Minute},
	{"remote", 3 * time.Minute},
}

// wineJobs is how many test binaries run under Wine at once, whatever the number of
// cores (as t.Parallel subtests they ran -parallel at a time: GOMAXPROCS, two on the CI
// machine, more on a bigger one). They start in winePackages' order: repo, the longest,
// first, so that the others run beside it.
const wineJobs = 2

// The package tests of repo, builder, luks, drive, kit, target, internal/beneath,
// internal/scrypt, internal/poly1305 and internal/aesctr (their assembly), profile, register,
// boot and remote, built for windows/amd64 and run under Wine in their package folder.
//
// For a run by hand: TRAVELKIT_WINETEST_PKGS="drive repo" runs only those packages,
// TRAVELKIT_WINETEST_V=1 passes -test.v to the binaries, TRAVELKIT_WINETEST_TIMEOUT=90s
// replaces every package's timeout.
func TestPackagesUnderWine(t *testing.T) {
	w, err := Setup()
	if err != nil {
		t.Fatal(err)
	}
	restic, err := ResticExe()
	if err != nil {
		t.Fatal(err)
	}
	age, err := AgeDir()
	if err != nil {
		t.Fatal(err)
	}
	var only map[string]bool
	if s := os.Getenv("TRAVELKIT_WINETEST_PKGS"); s != "" {
		only = map[string]bool{}
		for _, p := range strings.Fields(s) {
			only[p] = true
		}
	}
	// -test.short: the tests that make 100,000 files run in the Linux suite only
	args := []string{"-test.short"}
	if os.Getenv("TRAVELKIT_WINETEST_V") == "1" {
		args = append(args, "-test.v")
	}
	var timeoutOverride time.Duration
	if s := os.Getenv("TRAVELKIT_WINETEST_TIMEOUT"); s != "" {
		if timeoutOverride, err = time.ParseDuration(s); err != nil {
			t.Fatalf("TRAVELKIT_WINETEST_TIMEOUT: %v", err)
		}
	}
	bin := t.TempDir()
	reruns.Lock()
	reruns.ran = true
	reruns.Unlock()
	type job struct {
		pkg     string
		timeout time.Duration
		done    chan outcome
	}
	var jobs []job
	for _, wp := range winePackages {
		if only != nil && !only[wp.pkg] {
			continue
		}
		j := job{pkg: wp.pkg, timeout: wp.timeout, done: make(chan outcome, 1)}
		if timeoutOverride > 0 {
			j.timeout = timeoutOverride
		}
		jobs = append(jobs, j)
	}
	// the runs start in order, wineJobs at a time; each subtest reports its package's
	// outcome when it is there
	go func() {
		free := make(chan struct{}, wineJobs)
		for _, j := range jobs {
			free <- struct{}{}
			go func() {
				defer func() { <-free }()
				j.done <- testPackage(w, j.pkg, bin, j.timeout, args, "WINEPATH="+Path(filepath.Dir(restic))+";"+Path(age))
			}()
		}
	}()
	for _, j := range jobs {
		t.Run(j.pkg, func(t *testing.T) {
			o := <-j.done
			for _, l := range o.logs {
				t.Log(l)
			}
			for _, e := range o.errors {
				t.Error(e)
			}
		})
	}
}

// outcome is what the harness says of one package: lines to log, and failures.
type outcome struct{ logs, errors []string }

// testPackage builds a package's tests for Windows and runs them under Wine in its folder.
// When Wine failed to start a program (the test never saw it run) and nothing else failed,
// those tests run once more and must pass then.
func testPackage(w *Wine, pkg, bin string, timeout time.Duration, args []string, extra ...string) (o outcome) {
	exe, err := BuildWindows("./"+pkg, bin, true)
	if err != nil {
		o.errors = append(o.errors, err.Error())
		return o
	}
	run := func(args []string) packageRun {
		return runPackage(w, exe, filepath.Join(ProjectRoot(), pkg), timeout, args, extra...)
	}
	start := time.Now()
	defer func() {
		o.logs = append(o.logs, fmt.Sprintf("%s: its tests ran under Wine in %v", pkg, time.Since(start).Round(time.Second)))
	}()
	first := run(args)
	if len(first.linuxOnly) > 0 {
		o.logs = append(o.logs, fmt.Sprintf("%s: left out under Wine, they run a Linux tool (and run in the Linux suite): %s",
			pkg, strings.Join(first.linuxOnly, " ")))
	}
	if !first.bad() {
		return o
	}
	if first.stuck() {
		// Go's own timeout never fired: the runtime itself stopped (seen once in CI, in
		// drive's TestUnlockEarly at 1% CPU, and never again in ~2,000 runs: a stop-the-world
		// stuck in Windows thread suspension under Wine, as far as anyone can tell). The
		// evidence goes to the log, and the package runs once more and must pass then.
		msg := fmt.Sprintf("%s: the test binary stopped answering under Wine (no Go timeout panic); run again once. The stuck run:\n%s",
			pkg, first.report(pkg))
		o.logs = append(o.logs, msg)
		fmt.Fprintln(os.Stderr, "wintest: "+msg)
		again := run(args)
		result := "passed"
		if again.bad() {
			result = "failed again"
			o.errors = append(o.errors, fmt.Sprintf("%s: run again after the binary stopped answering:\n%s\n--- first run ---\n%s",
				pkg, again.report(pkg), first.report(pkg)))
		} else {
			o.logs = append(o.logs, fmt.Sprintf("%s: passed when run again", pkg))
		}
		o.logs = append(o.logs, noteRerun(pkg, "(all its tests)", "the binary stopped answering (killed, no Go timeout panic)", result))
		return o
	}
	if !first.onlyWineStart() {
		o.errors = append(o.errors, first.report(pkg))
		return o
	}
	o.logs = append(o.logs, fmt.Sprintf("%s: Wine failed to start a program in %s (CreateProcess: ERROR_INTERNAL_ERROR, "+
		"the new process ended before Wine set it up); running them once more:\n%s",
		pkg, strings.Join(first.wineStart, " "), first.messages()))
	again := run(append(args, "-test.run", "^("+strings.Join(first.wineStart, "|")+")$"))
	result := "passed"
	if again.bad() {
		result = "failed again"
		o.errors = append(o.errors, fmt.Sprintf("%s: run again after Wine failed to start a program:\n%s\n--- first run ---\n%s",
			pkg, again.report(pkg), first.report(pkg)))
	} else {
		o.logs = append(o.logs, fmt.Sprintf("%s: %s passed when run again", pkg, strings.Join(first.wineStart, " ")))
	}
	o.logs = append(o.logs, noteRerun(pkg, strings.Join(first.wineStart, " "), "Wine failed to start a program (fork/exec: Internal error.)", result))
	return o
}

// packageRun is what one run of a package's test binary under Wine printed and how it ended.
type packageRun struct {
	out                          string
	err                          error
	timeout                      time.Duration
	killed                       bool   // still running a minute after its timeout: the harness killed it
	state                        string // then: its processes and threads before the kill (groupState)
	failed, linuxOnly, wineStart []string
}

// runPackage runs a test binary under Wine in dir with -test.timeout timeout and args. Go
// ends a binary that runs past its timeout with a panic that lists the running tests and
// every goroutine; a binary still running a minute after that (Wine stuck, say) is killed
// with every Windows program it started.
func runPackage(w *Wine, exe, dir string, timeout time.Duration, args []string, extra ...string) packageRun {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	cmd := w.CommandContext(ctx, 30*time.Second, exe, append([]string{"-test.timeout", timeout.String()}, args...), extra...)
	cmd.Dir = dir
	// the output goes to a file, not a pipe: Wine's own programs (services.exe, ...),
	// started by the first Windows program with its stdout, can outlive it (and once
	// outlived their wineserver, stuck): a pipe would stay open with them
	f, err := os.CreateTemp("", "wine-out-")
	if err != nil {
		return packageRun{out: "", err: err, timeout: timeout}
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout = f
	cmd.Stderr = f
	var state string
	kill := cmd.Cancel
	cmd.Cancel = func() error {
		state = groupState(cmd.Process.Pid) // setsid: the group's id is the pid
		return kill()
	}
	err = cmd.Run()
	b, rerr := os.ReadFile(f.Name())
	if rerr != nil && err == nil {
		err = rerr
	}
	r := packageRun{out: string(b), err: err, timeout: timeout, killed: ctx.Err() != nil, state: state}
	r.failed, r.linuxOnly, r.wineStart = classify(r.out)
	return r
}

// finished: a binary that ran to its end prints PASS, or FAIL after the failed tests and
// exits 1; anything else (a signal, a timeout, a panic) did not.
func (r packageRun) finished() bool {
	var ee *exec.ExitError
	return !r.killed && !strings.Contains(r.out, "\npanic: ") && !strings.HasPrefix(r.out, "panic: ") &&
		(r.err == nil && strings.HasSuffix(r.out, "PASS\n") ||
			errors.As(r.err, &ee) && ee.ExitCode() == 1 && strings.HasSuffix(r.out, "FAIL\n"))
}

// stuck: the harness killed the binary and Go's timeout panic never came: the runtime
// itself stopped, not a test (a test that hangs ends in that panic, and fails).
func (r packageRun) stuck() bool {
	return r.killed && !strings.Contains(r.out, "panic: test timed out after ")
}

// bad: the run failed for more than tests left out for their Linux tools.
func (r packageRun) bad() bool {
	return !r.finished() || len(r.failed) > 0 || len(r.wineStart) > 0 || r.err != nil && len(r.linuxOnly) == 0
}

// onlyWineStart: the binary finished and its only failures were Wine failing to start a
// program (besides tests left out for their Linux tools).
func (r packageRun) onlyWineStart() bool {
	return r.finished() && len(r.failed) == 0 && len(r.wineStart) > 0
}

// messages are the output's lines that name Wine failing to start a program.
func (r packageRun) messages() string {
	var b strings.Builder
	for _, line := range strings.Split(r.out, "\n") {
		if wineStartRE.MatchString(line) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// report says how the run failed, with the output's part that shows why: from Go's
// panic on (a timeout's running tests and goroutines), else its tail.
func (r packageRun) report(pkg string) string {
	how := fmt.Sprint(r.err)
	if strings.Contains(r.out, "panic: test timed out after ") {
		how = fmt.Sprintf("ran past its -test.timeout %v (%v)", r.timeout, r.err)
	}
	if r.killed {
		how = fmt.Sprintf("still running a minute after its -test.timeout %v: killed with the Windows programs it started (%v)", r.timeout, r.err)
	}
	part := "--- output (tail) ---\n" + tail(r.out, 150)
	if i := strings.Index(r.out, "panic: "); i >= 0 && (i == 0 || r.out[i-1] == '\n') {
		part = "--- output from the panic on ---\n" + head(r.out[i:], 400)
	}
	if r.killed {
		part = "--- its processes and threads before the kill ---\n" + r.state + part
	}
	failed := strings.Join(append(append([]string{}, r.failed...), r.wineStart...), " ")
	if failed == "" {
		failed = "none reported"
	}
	return fmt.Sprintf("%s tests under Wine: %s; failed: %s\n%s", pkg, how, failed, part)
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n") + "\n"
}

func head(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = append(ls[:lines], fmt.Sprintf("... (%d more lines)", len(ls)-lines))
	}
	return strings.Join(ls, "\n") + "\n"
}
