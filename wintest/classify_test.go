package wintest

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	out := `--- FAIL: TestCryptsetupThing (0.63s)
    backup_test.go:55: cryptsetup luksFormat --type luks2 C:\x: exec: "/usr/sbin/cryptsetup": executable file not found in %PATH%
--- FAIL: TestAgeThing (0.10s)
    --- FAIL: TestAgeThing/sub (0.05s)
        escrow_test.go:70: ssh-keygen is needed by this test: exec: "ssh-keygen": executable file not found in %PATH%
--- FAIL: TestRealBug (0.20s)
    restore_test.go:12: restored file differs
--- FAIL: TestMixed (0.20s)
    x_test.go:1: cryptsetup: exec: "cryptsetup": executable file not found in %PATH%
    x_test.go:2: and something else broke
--- FAIL: TestUnknownTool (0.20s)
    x_test.go:1: exec: "notepad": executable file not found in %PATH%
--- FAIL: TestNoMessage (0.20s)
--- FAIL: TestLoggedThenTool (0.20s)
    check_test.go:159: some advice
        spanning lines
    check_test.go:162: sgdisk -n 1: exec: "sh": executable file not found in %PATH%
--- FAIL: TestSubtests (1.0s)
    --- FAIL: TestSubtests/a (0.5s)
        c_test.go:1: exec: "sgdisk": executable file not found in %PATH%
    --- FAIL: TestSubtests/b (0.5s)
        c_test.go:2: the table differs
--- FAIL: TestSubtestsTools (1.0s)
    --- FAIL: TestSubtestsTools/a (0.5s)
        c_test.go:1: exec: "sgdisk": executable file not found in %PATH%
    --- FAIL: TestSubtestsTools/b (0.5s)
        c_test.go:1: exec: "sgdisk": executable file not found in %PATH%
--- FAIL: TestWineStart (1.12s)
    features_test.go:191: restic cat config: fork/exec Z:\var\cache\travelkit-test\restic-v0.18.1-windows-amd64\restic.exe: Internal error.
        stdout: 
        stderr: 
--- FAIL: TestWineStartSubs (1.0s)
    --- FAIL: TestWineStartSubs/a (0.5s)
        keys_test.go:30: restic key list: fork/exec C:\restic.exe: Internal error.: 
    --- FAIL: TestWineStartSubs/b (0.5s)
        c_test.go:1: exec: "sgdisk": executable file not found in %PATH%
--- FAIL: TestWineStartThenBug (1.0s)
    --- FAIL: TestWineStartThenBug/a (0.5s)
        keys_test.go:30: restic key list: fork/exec C:\restic.exe: Internal error.
    --- FAIL: TestWineStartThenBug/b (0.5s)
        c_test.go:2: the table differs
--- FAIL: TestWineStartNotLast (1.0s)
    x_test.go:1: restic: fork/exec C:\restic.exe: Internal error.
    x_test.go:2: and then the snapshot was missing
--- FAIL: TestOtherExecError (1.0s)
    x_test.go:1: fork/exec C:\restic.exe: Access is denied.
FAIL
`
	failed, linuxOnly, wineStart := classify(out)
	if strings.Join(linuxOnly, " ") != "TestCryptsetupThing TestAgeThing TestLoggedThenTool TestSubtestsTools" {
		t.Errorf("linux-only: %q", linuxOnly)
	}
	if strings.Join(failed, " ") != "TestRealBug TestMixed TestUnknownTool TestNoMessage TestSubtests "+
		"TestWineStartThenBug TestWineStartNotLast TestOtherExecError" {
		t.Errorf("failed: %q", failed)
	}
	if strings.Join(wineStart, " ") != "TestWineStart TestWineStartSubs" {
		t.Errorf("Wine failed to start a program: %q", wineStart)
	}
}

// With -test.v a test's messages come before its "--- FAIL" line.
func TestClassifyVerbose(t *testing.T) {
	out := `=== RUN   TestCryptsetupThing
    backup_test.go:55: cryptsetup luksFormat: exec: "cryptsetup": executable file not found in %PATH%
--- FAIL: TestCryptsetupThing (0.63s)
=== RUN   TestFine
    fine_test.go:3: a log line
--- PASS: TestFine (0.01s)
=== RUN   TestWineStart
=== RUN   TestWineStart/a
    keys_test.go:30: restic key list: fork/exec C:\restic.exe: Internal error.
=== RUN   TestWineStart/b
    c_test.go:1: exec: "sgdisk": executable file not found in %PATH%
--- FAIL: TestWineStart (1.0s)
    --- FAIL: TestWineStart/a (0.5s)
    --- FAIL: TestWineStart/b (0.5s)
=== RUN   TestRealBug
=== PAUSE TestRealBug
=== RUN   TestOther
=== CONT  TestRealBug
    restore_test.go:12: restored file differs
=== NAME  TestOther
    other_test.go:1: fine
--- PASS: TestOther (0.20s)
--- FAIL: TestRealBug (0.20s)
FAIL
`
	failed, linuxOnly, wineStart := classify(out)
	if strings.Join(linuxOnly, " ") != "TestCryptsetupThing" {
		t.Errorf("linux-only: %q", linuxOnly)
	}
	if strings.Join(failed, " ") != "TestRealBug" {
		t.Errorf("failed: %q", failed)
	}
	if strings.Join(wineStart, " ") != "TestWineStart" {
		t.Errorf("Wine failed to start a program: %q", wineStart)
	}
}

func TestStuck(t *testing.T) {
	for _, c := range []struct {
		r    packageRun
		want bool
	}{
		{packageRun{killed: true, out: "=== RUN   TestUnlockEarly\n"}, true},
		{packageRun{killed: true, out: "panic: test timed out after 6m0s\n\trunning tests:\n"}, false},
		{packageRun{out: "panic: test timed out after 6m0s\n"}, false},
		{packageRun{out: "PASS\n"}, false},
	} {
		if got := c.r.stuck(); got != c.want {
			t.Errorf("stuck(%q, killed %v) = %v, want %v", c.r.out, c.r.killed, got, c.want)
		}
	}
}
