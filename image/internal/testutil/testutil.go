// Package testutil holds helpers shared by the image tests.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"travelkit/image"
)

// SparseFile creates a sparse file of size bytes in t.TempDir and returns it as a Device.
func SparseFile(t testing.TB, name string, size int64) (*image.FileDevice, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &image.FileDevice{F: f, N: size}, p
}

// Tool runs an external tool and returns its combined output; a missing tool fails the test.
func Tool(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (needed by this test; see scripts/install-test-deps.sh): %v", name, err)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// MustTool runs a tool and fails the test when it exits non-zero.
func MustTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := Tool(t, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}
