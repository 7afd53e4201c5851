//go:build !windows

package repo

import (
	"strings"
	"testing"
)

func TestPathStepsUnix(t *testing.T) {
	for in, want := range map[string]string{
		"/home/amina/docs": "home|amina|docs",
		"/home/amina/":     "home|amina",
		"/":                "",
	} {
		var names []string
		for _, s := range pathSteps(in) {
			names = append(names, s.name)
		}
		if got := strings.Join(names, "|"); got != want {
			t.Errorf("pathSteps(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"/home/amina/": "/home/amina", "home": "/home", "/": "/"} {
		if got := SnapshotPath(in); got != want {
			t.Errorf("SnapshotPath(%q) = %q, want %q", in, got, want)
		}
	}
}
