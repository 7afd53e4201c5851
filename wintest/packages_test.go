package wintest

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// linuxTools are programs some package tests run to compare travelkit with them
// (cryptsetup, age-keygen, ...) that have no Windows build here. Such a test runs in
// the Linux suite; under Wine it fails at once with exec's "executable file not found",
// and the harness lists it as left out instead of failing (see classify). restic is not
// among them: the tests that use it get restic for Windows (see ResticExe).
var linuxTools = map[string]bool{"cryptsetup": true, "age": true, "age-keygen": true, "ssh-keygen": true,
	"sha256sum": true, "python3": true, "e2fsck": true, "debugfs": true, "mkfs.ext4": true, "sgdisk": true,
	"sfdisk": true, "fsck.vfat": true, "mdir": true, "mcopy": true, "mount": true, "losetup": true,
	"swtpm": true, "swtpm_setup": true, "tpm2_createprimary": true, "borg": true, "openssl": true,
	"ssss-split": true, "ssss-combine": true, "qemu-system-x86_64": true, "blkid": true, "sh": true,
	"bash": true, "dd": true, "truncate": true, "mkfs.vfat": true, "mtype": true, "fsck.ext4": true}

var (
	failRE     = regexp.MustCompile(`^(\s*)--- FAIL: (\S+)`)
	messageRE  = regexp.MustCompile(`^\s+\S+_test\.go:\d+: `)
	notFoundRE = regexp.MustCompile(`exec: "([^"]+)": executable file not found in %PATH%`)
)

// classify reads a test binary's output and returns the top-level tests that failed
// for a real reason, and those that only failed because they run a Linux tool: in each
// of its (sub)test reports, the last message (the t.Fatal that stopped it) is exec's
// "not found" for one of linuxTools.
func classify(out string) (failed, linuxOnly []string) {
	type report struct {
		top      string
		messages []string
	}
	var reports []*report
	var cur *report
	top := ""
	for _, line := range strings.Split(out, "\n") {
		if m := failRE.FindStringSubmatch(line); m != nil {
			if m[1] == "" {
				top = m[2]
			}
			cur = &report{top: top}
			reports = append(reports, cur)
			continue
		}
		if cur != nil && messageRE.MatchString(line) {
			cur.messages = append(cur.messages, line)
		}
		if !strings.HasPrefix(line, " ") && line != "" {
			cur = nil // FAIL, ok, PASS, panic: the report is over
		}
	}
	toolOnly, bad := map[string]bool{}, map[string]bool{}
	var order []string
	for _, r := range reports {
		if _, seen := toolOnly[r.top]; !seen {
			order = append(order, r.top)
			toolOnly[r.top] = false
		}
		if len(r.messages) == 0 {
			continue // a parent whose subtests failed
		}
		m := notFoundRE.FindStringSubmatch(r.messages[len(r.messages)-1])
		if m != nil && linuxTools[filepath.Base(m[1])] {
			toolOnly[r.top] = true
		} else {
			bad[r.top] = true
		}
	}
	for _, name := range order {
		if toolOnly[name] && !bad[name] {
			linuxOnly = append(linuxOnly, name)
		} else {
			failed = append(failed, name)
		}
	}
	return failed, linuxOnly
}

// The package tests of repo, luks, drive, kit, target, internal/beneath, internal/scrypt
// and internal/poly1305 (their assembly), built for windows/amd64 and run under Wine in
// their package folder.
func TestPackagesUnderWine(t *testing.T) {
	w, err := Setup()
	if err != nil {
		t.Fatal(err)
	}
	restic, err := ResticExe()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, pkg := range []string{"repo", "luks", "drive", "kit", "target", "internal/beneath", "internal/scrypt", "internal/poly1305"} {
		t.Run(pkg, func(t *testing.T) {
			t.Parallel()
			exe, err := BuildWindows("./"+pkg, bin, true)
			if err != nil {
				t.Fatal(err)
			}
			// -test.short: the tests that make 100,000 files run in the Linux suite only
			cmd := w.Command(exe, []string{"-test.timeout", "20m", "-test.short"}, "WINEPATH="+Path(filepath.Dir(restic)))
			cmd.Dir = filepath.Join(ProjectRoot(), pkg)
			var out bytes.Buffer
			cmd.Stdout = &out
			cmd.Stderr = &out
			err = cmd.Run()
			failed, linuxOnly := classify(out.String())
			if len(linuxOnly) > 0 {
				t.Logf("%s: left out under Wine, they run a Linux tool (and run in the Linux suite): %s",
					pkg, strings.Join(linuxOnly, " "))
			}
			text := out.String()
			// a binary that ran to its end prints PASS, or FAIL after the failed tests
			// and exits 1; anything else (a signal, a timeout, a panic) fails
			var ee *exec.ExitError
			finished := err == nil && strings.HasSuffix(text, "PASS\n") ||
				errors.As(err, &ee) && ee.ExitCode() == 1 && strings.HasSuffix(text, "FAIL\n")
			bad := len(failed) > 0 || !finished || strings.Contains(text, "\npanic: ") || strings.HasPrefix(text, "panic: ") ||
				err != nil && len(linuxOnly) == 0
			if bad {
				t.Errorf("%s tests under Wine: %v; failed: %s\n--- output (tail) ---\n%s", pkg, err,
					strings.Join(failed, " "), tail(out.String(), 150))
			}
		})
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n") + "\n"
}
