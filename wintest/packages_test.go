package wintest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// linuxOnly names the tests that compare travelkit with a Linux tool that
// has no Windows build here (cryptsetup, age-keygen, ssh-keygen, sha256sum).
// They run in the Linux suite; under Wine they are left out with -test.skip,
// and every other test of the package runs. restic is not among these tools:
// the tests that use it run restic for Windows (see ResticExe).
var linuxOnly = map[string][]string{
	"luks": {"TestLUKS1ReadOnly", "TestCryptsetupAcceptsTravelkitVolumes", "TestTravelkitOpensCryptsetupVolumes",
		"TestKeyslotAndTokenChangesBothWays", "TestCryptsetupDamagedHeaders", "TestLUKS1IsNamed",
		"TestLargeWriteDecryptsIndependently"},
	"kit": {"TestEscrowX25519AgeCLI", "TestEscrowSSHKeysAgeCLI", "TestOpenEscrowFromAgeCLI",
		"TestSHA256SUMSWithSha256sum"},
}

// The package tests of repo, luks, drive, kit and target, built for
// windows/amd64 and run under Wine in their package folder.
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
	for _, pkg := range []string{"repo", "luks", "drive", "kit", "target"} {
		t.Run(pkg, func(t *testing.T) {
			t.Parallel()
			exe, err := BuildWindows("./"+pkg, bin, true)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"-test.timeout", "20m"}
			if skip := linuxOnly[pkg]; len(skip) > 0 {
				args = append(args, "-test.skip", "^("+strings.Join(skip, "|")+")$")
			}
			cmd := w.Command(exe, args, "WINEPATH="+Path(filepath.Dir(restic)))
			cmd.Dir = filepath.Join(ProjectRoot(), pkg)
			var out bytes.Buffer
			cmd.Stdout = &out
			cmd.Stderr = &out
			err = cmd.Run()
			fails := regexp.MustCompile(`(?m)^\s*--- FAIL: .*$`).FindAllString(out.String(), -1)
			if err != nil || len(fails) > 0 || !strings.Contains(out.String(), "PASS") {
				t.Errorf("%s tests under Wine: %v\n%s\n--- output (tail) ---\n%s", pkg, err,
					strings.Join(fails, "\n"), tail(out.String(), 150))
				return
			}
			if testing.Verbose() {
				os.Stdout.WriteString(tail(out.String(), 3))
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
