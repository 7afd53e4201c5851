package wintest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The harness runs a package's tests again, once, when Wine failed to start a program or
// the binary stopped answering (testPackage). A re-run that passes leaves the test green,
// and go test shows nothing of a passing package without -v: cmd/go keeps a package's
// output in a buffer and drops it when the package passed (cmd/go/internal/test: "if
// !testShowPass() { buf.Reset() }"), stderr included. So every re-run is also one line of
// the summary that TestMain prints at the end (shown with -v or a failure), and a line
// appended to a file (rerunsFile): `make test` names a fresh one and prints it after
// `go test ./...`, so a re-run shows in a CI log even when every package passed.

var reruns struct {
	sync.Mutex
	ran   bool     // TestPackagesUnderWine ran packages under Wine
	lines []string // one per re-run: package, tests, reason, result
}

// noteRerun records one re-run and returns its line.
func noteRerun(pkg, tests, reason, result string) string {
	line := fmt.Sprintf("wintest: re-ran under Wine: %s %s: %s; %s", pkg, tests, reason, result)
	reruns.Lock()
	reruns.lines = append(reruns.lines, line)
	reruns.Unlock()
	return line
}

// rerunsFile is where the summary is appended, one line a re-run with the time and the
// folder it ran in: $TRAVELKIT_WINETEST_RERUNS, else travelkit-wintest-reruns.txt in the
// temporary folder. Appended, so that it keeps a machine's history of Wine's hiccups.
func rerunsFile() string {
	if f := os.Getenv("TRAVELKIT_WINETEST_RERUNS"); f != "" {
		return f
	}
	return filepath.Join(os.TempDir(), "travelkit-wintest-reruns.txt")
}

// rerunSummary is what TestMain prints: nothing when no package ran under Wine, else
// one line for the count and where they are listed, then one line a re-run.
func rerunSummary(file string, lines []string, fileErr error) string {
	where := "listed in " + file
	if fileErr != nil {
		where = fmt.Sprintf("not listed in %s: %v", file, fileErr)
	}
	if len(lines) == 0 {
		return fmt.Sprintf("wintest: no test re-run under Wine (Wine start failures and stuck binaries are %s)\n", where)
	}
	return fmt.Sprintf("wintest: %d re-run(s) under Wine, passed or not (%s):\n%s\n", len(lines), where, strings.Join(lines, "\n"))
}

func appendReruns(file string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	stamp := time.Now().UTC().Format(time.RFC3339)
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s %s (in %s)\n", stamp, l, ProjectRoot())
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	reruns.Lock()
	ran, lines := reruns.ran, reruns.lines
	reruns.Unlock()
	if ran {
		file := rerunsFile()
		summary := rerunSummary(file, lines, appendReruns(file, lines))
		// go test shows this when the package failed or with -v (or -json); else the
		// file is where the re-runs are seen
		fmt.Fprint(os.Stderr, summary)
	}
	os.Exit(code)
}

// TestRerunSummary: every re-run is a line of the summary and of the file, which is
// appended to, not replaced; with none the summary still says so.
func TestRerunSummary(t *testing.T) {
	file := filepath.Join(t.TempDir(), "reruns.txt")
	a := "wintest: re-ran under Wine: repo TestA TestB: Wine failed to start a program (fork/exec: Internal error.); passed"
	b := "wintest: re-ran under Wine: drive (all its tests): the binary stopped answering (killed, no Go timeout panic); failed again"
	for _, lines := range [][]string{{a}, {b}, nil} {
		if err := appendReruns(file, lines); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(ls) != 2 || !strings.Contains(ls[0], " "+a+" (in ") || !strings.Contains(ls[1], " "+b+" (in ") {
		t.Fatalf("the file holds:\n%s", got)
	}
	s := rerunSummary(file, []string{a, b}, nil)
	if !strings.HasPrefix(s, "wintest: 2 re-run(s) under Wine") || !strings.Contains(s, file) ||
		!strings.Contains(s, "\n"+a+"\n") || !strings.HasSuffix(s, "\n"+b+"\n") {
		t.Fatalf("summary:\n%s", s)
	}
	if s := rerunSummary(file, nil, nil); !strings.HasPrefix(s, "wintest: no test re-run under Wine") || strings.Count(s, "\n") != 1 {
		t.Fatalf("summary without re-runs: %q", s)
	}
}
