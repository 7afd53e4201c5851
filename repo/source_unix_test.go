//go:build linux || darwin || freebsd || netbsd || openbsd

package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangGuard bounds a call that would block for good if the code under test
// regressed (opening a FIFO nobody writes to): the test fails instead of
// hanging. It is no timing assertion: the call is expected to take
// milliseconds, and a minute is only there so a hang ends.
const hangGuard = time.Minute

// openSourceGuarded runs openSource(p) and fails the test when it has not
// returned after hangGuard; it then opens the FIFO fifo (when not "") for
// writing, which ends the blocked open.
func openSourceGuarded(t *testing.T, p, fifo string) (sourceFile, error) {
	t.Helper()
	type result struct {
		f   sourceFile
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := openSource(p)
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-time.After(hangGuard):
		if fifo != "" {
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
		}
		t.Fatalf("openSource(%s) still blocked after %v", p, hangGuard)
		return nil, nil
	}
}

// A file the walk found regular and that is something else by the time it is
// opened is refused with NotRegularError, promptly: a named pipe with no
// writer (a plain open would wait for a writer for good), a device, a folder,
// a symlink.
func TestOpenSourceRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
		kind string
	}{
		{fifo, os.ModeNamedPipe, "a named pipe (FIFO)"},
		{"/dev/null", os.ModeCharDevice, "a character device"},
		{dir, os.ModeDir, "a folder"},
		{filepath.Join(dir, "link"), os.ModeSymlink, "a symbolic link"},
	} {
		f, err := openSourceGuarded(t, c.path, fifo)
		if err == nil {
			f.Close()
			t.Errorf("openSource(%s) opened it", c.path)
			continue
		}
		var nr *NotRegularError
		if !errors.As(err, &nr) || nr.Mode&c.mode == 0 {
			t.Errorf("openSource(%s): %v, want a NotRegularError of mode %v", c.path, err, c.mode)
			continue
		}
		if want := c.path + ": was a regular file when its folder was listed and is " + c.kind + " now: not read, not in this snapshot"; !strings.Contains(err.Error(), want) {
			t.Errorf("openSource(%s): %q, want it to say %q", c.path, err, want)
		}
	}
}

// A file swapped for a FIFO between the walk and the read: the backup does not
// hang, warns the file's error and stores everything else.
func TestBackupFileSwappedForFIFO(t *testing.T) {
	ctx := context.Background()
	r, src, victim := swapTest(t)
	orig := openFile
	openFile = func(p string) (sourceFile, error) {
		if p == victim {
			if err := os.Remove(p); err != nil {
				return nil, err
			}
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				return nil, err
			}
		}
		return orig(p)
	}
	defer func() { openFile = orig }()
	type result struct {
		res    *BackupResult
		err    error
		warned map[string]error
	}
	done := make(chan result, 1)
	go func() {
		warned := map[string]error{}
		res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h",
			Warn: func(p string, err error) { warned[p] = err }})
		done <- result{res, err, warned}
	}()
	var got result
	select {
	case got = <-done:
	case <-time.After(hangGuard):
		if w, err := os.OpenFile(victim, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatalf("backup still running after %v (blocked opening the FIFO?)", hangGuard)
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	var nr *NotRegularError
	if got.res.Errors != 1 || len(got.warned) != 1 || !errors.As(got.warned[victim], &nr) || nr.Mode&os.ModeNamedPipe == 0 {
		t.Fatalf("want one warning, a NotRegularError for %s; got %d errors, %v", victim, got.res.Errors, got.warned)
	}
	wantSnapshotFiles(t, r, got.res.Snapshot, "a", "z")
}

// swapFolder puts a symbolic link to the folder target at p; it returns the
// mode of what it made.
func swapFolder(t *testing.T, p, target string) (os.FileMode, error) {
	return os.ModeSymlink, os.Symlink(target, p)
}

// listDir refuses, promptly, a folder that is something else by the time it
// is opened: a symbolic link to a folder (not followed), a file, a named pipe
// with no writer (not opened, not waited on), a device.
func TestListDirRefusesNonFolder(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
		kind string
	}{
		{link, os.ModeSymlink, "a symbolic link"},
		{file, 0, "a file"},
		{fifo, os.ModeNamedPipe, "a named pipe (FIFO)"},
		{"/dev/null", os.ModeDevice | os.ModeCharDevice, "a character device"},
	} {
		type result struct {
			ents []dirInfo
			err  error
		}
		done := make(chan result, 1)
		go func() {
			ents, err := listDir(c.path)
			done <- result{ents, err}
		}()
		var got result
		select {
		case got = <-done:
		case <-time.After(hangGuard):
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			t.Fatalf("listDir(%s) still blocked after %v", c.path, hangGuard)
		}
		var nf *NotFolderError
		if got.ents != nil || !errors.As(got.err, &nf) || nf.Mode.Type() != c.mode {
			t.Errorf("listDir(%s): %v, %v; want no entries and a NotFolderError of mode %v", c.path, got.ents, got.err, c.mode)
			continue
		}
		if want := c.path + ": was a folder when the backup found it and is " + c.kind + " now: not followed, kept empty in this snapshot"; got.err.Error() != "open "+want {
			t.Errorf("listDir(%s): %q, want %q", c.path, got.err, "open "+want)
		}
	}
	// the folder itself is listed
	ents, err := listDir(dir)
	if err != nil || len(ents) != 3 {
		t.Errorf("listDir(%s): %v, %v; want fifo, file, link", dir, ents, err)
	}
}
