package repo

import (
	"strings"
	"testing"
)

// Windows paths become snapshot paths as restic's archiver makes them
// (internal/archiver/tree.go, pathComponents): the drive letter without its
// colon leads, and its metadata comes from the volume's root.
func TestPathStepsWindows(t *testing.T) {
	for _, c := range []struct {
		in, names, osPaths string
	}{
		{`C:\Users\amina\Documents`, "C|Users|amina|Documents", `C:\|C:\Users|C:\Users\amina|C:\Users\amina\Documents`},
		{`C:\Users\amina\`, "C|Users|amina", `C:\|C:\Users|C:\Users\amina`},
		{`C:/Users/amina`, "C|Users|amina", `C:\|C:\Users|C:\Users\amina`},
		{`C:\`, "C", `C:\`},
		{`d:\x`, "d|x", `d:\|d:\x`},
		{`\\server\share\dir`, `\\server\share|dir`, `\\server\share\|\\server\share\dir`},
	} {
		var names, paths []string
		for _, s := range pathSteps(c.in) {
			names = append(names, s.name)
			paths = append(paths, s.osPath)
		}
		if strings.Join(names, "|") != c.names || strings.Join(paths, "|") != c.osPaths {
			t.Errorf("pathSteps(%q) = %q %q, want %q %q", c.in, names, paths, c.names, c.osPaths)
		}
	}
	for in, want := range map[string]string{
		`C:\Users\amina`:  "/C/Users/amina",
		`C:\`:             "/C",
		`c:\users`:        "/c/users",
		`/C/Users/amina`:  "/C/Users/amina",
		`\C\Users\amina\`: "/C/Users/amina",
		`C/Users`:         "/C/Users",
	} {
		if got := SnapshotPath(in); got != want {
			t.Errorf("SnapshotPath(%q) = %q, want %q", in, got, want)
		}
	}
}
