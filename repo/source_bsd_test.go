//go:build darwin || freebsd || netbsd || openbsd

package repo

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A regular file is opened without blocking, then read blocking again (the
// flag is cleared); its Stat is the file's own.
func TestOpenSourceBlockingReads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := openSource(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := f.(*os.File).SyscallConn() // not Fd: it would clear O_NONBLOCK itself
	if err != nil {
		t.Fatal(err)
	}
	var fl int
	var ferr error
	if err := rc.Control(func(fd uintptr) { fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	if fl&unix.O_NONBLOCK != 0 {
		t.Errorf("file status flags %#x: O_NONBLOCK still set", fl)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 5 {
		t.Fatalf("Stat: %v %v", fi, err)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "hello" {
		t.Fatalf("read %q %v", b, err)
	}
}
