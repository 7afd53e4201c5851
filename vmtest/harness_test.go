package vmtest

import (
	"path/filepath"
	"strings"
	"testing"
)

// The harness's own pieces that need no VM.

func TestResolveModulesOrdersDependenciesFirst(t *testing.T) {
	k, err := FindKernel()
	if err != nil {
		t.Fatal(err)
	}
	mods, err := ResolveModules(k.Version, []string{"dm_crypt", "ext4", "dm_mod"})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, m := range mods {
		name := strings.TrimSuffix(filepath.Base(m), filepath.Ext(filepath.Base(m)))
		name = strings.TrimSuffix(name, ".ko")
		if _, dup := pos[name]; dup {
			t.Errorf("%s listed twice", name)
		}
		pos[name] = i
	}
	for _, m := range []string{"dm-mod", "dm-crypt", "jbd2", "ext4"} {
		if _, ok := pos[m]; !ok {
			t.Fatalf("%s missing from %v", m, mods)
		}
	}
	if pos["dm-mod"] > pos["dm-crypt"] || pos["jbd2"] > pos["ext4"] {
		t.Errorf("dependencies after their users: %v", mods)
	}
}

func TestParseMarkers(t *testing.T) {
	out := "noise\r\nVMTEST-OK a=1 b=x\r\n[ 1.0] kernel VMTEST-OK c=3\nVMTEST-FAIL mount /x\nVMTEST-END rc=1 uptime=2.0\n"
	m := ParseMarkers(out)
	if m.Values["a"] != "1" || m.Values["b"] != "x" || m.Values["c"] != "3" || len(m.OK) != 2 {
		t.Errorf("values: %+v", m)
	}
	if len(m.Failures) != 1 || m.Failures[0] != "mount /x" || !m.Ended || m.RC != "1" {
		t.Errorf("failures/end: %+v", m)
	}
}

func TestVersionLess(t *testing.T) {
	if !versionLess("6.1.0-9-amd64", "6.1.0-56-amd64") || versionLess("6.10.0-1-amd64", "6.9.0-1-amd64") {
		t.Error("kernel versions compare number by number")
	}
}
