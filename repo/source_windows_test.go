package repo

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/sys/windows"
)

// makeJunction makes link a junction (a mount point reparse point) to the
// folder target, as `mklink /J link target` does.
func makeJunction(link, target string) error {
	if err := os.Mkdir(link, 0o777); err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(link)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	// REPARSE_DATA_BUFFER, MountPointReparseBuffer: the NT path to go to, then
	// the path to show, each NUL-terminated
	sub := utf16.Encode([]rune(`\??\` + target))
	show := utf16.Encode([]rune(target))
	names := append(append(append(sub, 0), show...), 0)
	buf := make([]byte, 16+2*len(names))
	binary.LittleEndian.PutUint32(buf[0:], windows.IO_REPARSE_TAG_MOUNT_POINT)
	binary.LittleEndian.PutUint16(buf[4:], uint16(len(buf)-8)) // ReparseDataLength
	binary.LittleEndian.PutUint16(buf[8:], 0)                  // SubstituteNameOffset
	binary.LittleEndian.PutUint16(buf[10:], uint16(2*len(sub)))
	binary.LittleEndian.PutUint16(buf[12:], uint16(2*(len(sub)+1))) // PrintNameOffset
	binary.LittleEndian.PutUint16(buf[14:], uint16(2*len(show)))
	for i, c := range names {
		binary.LittleEndian.PutUint16(buf[16+2*i:], c)
	}
	var n uint32
	return windows.DeviceIoControl(h, windows.FSCTL_SET_REPARSE_POINT, &buf[0], uint32(len(buf)), nil, 0, &n, nil)
}

// wineCannot says whether err is Wine 8.0's refusal to make a reparse point
// (FSCTL_SET_REPARSE_POINT: "Request not supported"), under Wine only, and
// logs that the case did not run.
func wineCannot(t *testing.T, err error, what string) bool {
	t.Helper()
	if os.Getenv("TRAVELKIT_WINE") == "1" && errors.Is(err, windows.ERROR_NOT_SUPPORTED) {
		t.Logf("Wine cannot make a %s (%v): that case did not run", what, err)
		return true
	}
	return false
}

// symlinkMade makes link a symbolic link to target and says whether it was made.
// Making one needs developer mode or an administrator on Windows, and Wine 8.0
// reports success and makes nothing: then it logs that the case did not run.
// Outside Wine, os.Symlink succeeding without a link fails the test.
func symlinkMade(t *testing.T, target, link string) bool {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Logf("no symbolic link made (%v): that case did not run", err)
		return false
	}
	if _, err := os.Lstat(link); errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("TRAVELKIT_WINE") != "1" {
			t.Fatalf("os.Symlink(%s, %s) succeeded and made no link", target, link)
		}
		t.Logf("Wine made no symbolic link: that case did not run")
		return false
	}
	return true
}

// openSource on Windows opens a file itself, never what a reparse point in its
// place points to, and refuses what is not a regular file.
func TestOpenSourceWindows(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := openSource(file)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 5 {
		t.Errorf("Stat: %v %v", fi, err)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "hello" {
		t.Errorf("read %q %v", b, err)
	}
	f.Close()

	refused := func(p string, mode os.FileMode, kind string) {
		t.Helper()
		f, err := openSource(p)
		if err == nil {
			f.Close()
			t.Errorf("openSource(%s) opened it", p)
			return
		}
		var nr *NotRegularError
		if !errors.As(err, &nr) || nr.Mode&mode == 0 {
			t.Errorf("openSource(%s): %v, want a NotRegularError of mode %v", p, err, mode)
			return
		}
		if want := "is " + kind + " now: not read"; !strings.Contains(err.Error(), want) {
			t.Errorf("openSource(%s): %q, want it to say %q", p, err, want)
		}
	}
	// a folder (os.Open opens one: the backup read it as a file before)
	refused(dir, os.ModeDir, "a folder")

	// a junction to a folder
	junction := filepath.Join(dir, "junction")
	switch err := makeJunction(junction, t.TempDir()); {
	case wineCannot(t, err, "junction"):
	case err != nil:
		t.Fatalf("making a junction: %v", err)
	default:
		refused(junction, os.ModeIrregular, "a reparse point (a junction, or a link of another kind)")
	}

	// a symbolic link to a file
	if link := filepath.Join(dir, "link"); symlinkMade(t, file, link) {
		refused(link, os.ModeSymlink, "a symbolic link")
	}
}

// A file swapped for a junction (under Wine, which makes none: a folder)
// between the walk and the read is warned and left out; the backup stores
// everything else.
func TestBackupFileSwappedForJunction(t *testing.T) {
	ctx := context.Background()
	r, src, victim := swapTest(t)
	outside := t.TempDir()
	swappedIn := os.ModeIrregular // a junction
	orig := openFile
	openFile = func(p string) (sourceFile, error) {
		if p == victim {
			if err := os.Remove(p); err != nil {
				return nil, err
			}
			err := makeJunction(p, outside)
			if wineCannot(t, err, "junction") {
				// a folder in the file's place instead (opened, before, and
				// refused only by readFile's Stat)
				swappedIn = os.ModeDir
			} else if err != nil {
				return nil, err
			}
		}
		return orig(p)
	}
	defer func() { openFile = orig }()
	warned := map[string]error{}
	res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h",
		Warn: func(p string, err error) { warned[p] = err }})
	if err != nil {
		t.Fatal(err)
	}
	var nr *NotRegularError
	if res.Errors != 1 || len(warned) != 1 || !errors.As(warned[victim], &nr) || nr.Mode&swappedIn == 0 {
		t.Fatalf("want one warning, a NotRegularError for %s; got %d errors, %v", victim, res.Errors, warned)
	}
	wantSnapshotFiles(t, r, res.Snapshot, "a", "z")
	// removed before t.TempDir's cleanup (os.Remove of a junction removes the
	// link, not its target)
	if err := os.Remove(victim); err != nil {
		t.Fatal(err)
	}
}

// swapFolder puts a junction to the folder target at p (under Wine, which
// makes none, a file); it returns the mode of what it made.
func swapFolder(t *testing.T, p, target string) (os.FileMode, error) {
	err := makeJunction(p, target)
	if !wineCannot(t, err, "junction") {
		return os.ModeIrregular, err
	}
	if err := os.Remove(p); err != nil {
		return 0, err
	}
	return 0, os.WriteFile(p, []byte("a file in a folder's place"), 0o644)
}

// listDir on Windows opens a folder itself, never what a junction in its
// place points to, and refuses what is not a folder.
func TestListDirWindows(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	ents, err := listDir(dir)
	if err != nil || len(ents) != 1 || ents[0].name != "file" || !ents[0].fi.Mode().IsRegular() {
		t.Fatalf("listDir(%s): %v, %v; want file", dir, ents, err)
	}
	refused := func(p string, mode os.FileMode, kind string) {
		t.Helper()
		ents, err := listDir(p)
		var nf *NotFolderError
		if ents != nil || !errors.As(err, &nf) || nf.Mode.Type() != mode {
			t.Errorf("listDir(%s): %v, %v; want no entries and a NotFolderError of mode %v", p, ents, err, mode)
			return
		}
		if want := "is " + kind + " now: not followed, kept empty"; !strings.Contains(err.Error(), want) {
			t.Errorf("listDir(%s): %q, want it to say %q", p, err, want)
		}
	}
	// a file (os.Open opens one: the walk tried to list it before)
	refused(file, 0, "a file")

	// a junction to a folder that holds a file
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	junction := filepath.Join(dir, "junction")
	switch err := makeJunction(junction, outside); {
	case wineCannot(t, err, "junction"):
	case err != nil:
		t.Fatalf("making a junction: %v", err)
	default:
		refused(junction, os.ModeIrregular, "a reparse point (a junction, or a link of another kind)")
		if err := os.Remove(junction); err != nil {
			t.Fatal(err)
		}
	}

	// a symbolic link to a folder
	if link := filepath.Join(dir, "link"); symlinkMade(t, outside, link) {
		refused(link, os.ModeSymlink, "a symbolic link")
	}
}
