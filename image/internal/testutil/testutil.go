package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Dev is a file of a fixed size used as a device (it satisfies image.Device;
// this package cannot import image, whose subpackages' tests use it).
type Dev struct {
	F       *os.File
	N       int64
	Flushes int // Flush calls (tests do not fsync: durability is not what they check)
}

// Size returns the device size.
func (d *Dev) Size() int64 { return d.N }

// ReadAt reads from the file.
func (d *Dev) ReadAt(p []byte, off int64) (int, error) { return d.F.ReadAt(p, off) }

// WriteAt writes to the file, refusing writes past the end.
func (d *Dev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > d.N {
		return 0, os.ErrInvalid
	}
	return d.F.WriteAt(p, off)
}

// Flush counts the call; it does not fsync, to keep tests fast.
func (d *Dev) Flush() error {
	d.Flushes++
	return nil
}

// SparseFile creates a sparse file of size bytes in t.TempDir and returns it as a Device.
func SparseFile(t testing.TB, name string, size int64) (*Dev, string) {
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
	return &Dev{F: f, N: size}, p
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

// ToolStdin is Tool with stdin.
func ToolStdin(t testing.TB, stdin []byte, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (needed by this test; see scripts/install-test-deps.sh): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
