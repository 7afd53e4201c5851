package repo

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// listDir's entries and a source file's Stat give what os.Lstat gives.
func TestListDirMatchesLstat(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "file"), []byte("hello"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "setid"), nil, 0o755))
	must(os.Chmod(filepath.Join(dir, "setid"), 0o755|os.ModeSetuid|os.ModeSetgid))
	must(os.Mkdir(filepath.Join(dir, "sticky"), 0o700))
	must(os.Chmod(filepath.Join(dir, "sticky"), 0o1777|os.ModeSticky))
	must(os.Symlink("file", filepath.Join(dir, "link")))
	must(os.Link(filepath.Join(dir, "file"), filepath.Join(dir, "hard")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	ents, err := listDir(dir)
	must(err)
	var names []string
	for _, e := range ents {
		names = append(names, e.name)
		if e.err != nil {
			t.Fatalf("%s: %v", e.name, e.err)
		}
		want, err := os.Lstat(filepath.Join(dir, e.name))
		must(err)
		got := e.fi
		if got.Name() != want.Name() || got.Mode() != want.Mode() || got.Size() != want.Size() ||
			!got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir() ||
			!reflect.DeepEqual(got.Sys(), want.Sys()) {
			t.Errorf("%s: listDir %v %v %d %v, os.Lstat %v %v %d %v", e.name, got.Name(), got.Mode(), got.Size(), got.ModTime(),
				want.Name(), want.Mode(), want.Size(), want.ModTime())
		}
	}
	if want := []string{"fifo", "file", "hard", "link", "setid", "sticky"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("listDir names %v, want %v", names, want)
	}
	f, err := openSource(filepath.Join(dir, "file"))
	must(err)
	defer f.Close()
	fi, err := f.Stat()
	must(err)
	want, _ := os.Stat(filepath.Join(dir, "file"))
	if fi.Mode() != want.Mode() || fi.Size() != 5 || !reflect.DeepEqual(fi.Sys(), want.Sys()) {
		t.Errorf("Stat of an open file: %v %d, want %v", fi.Mode(), fi.Size(), want.Mode())
	}
	// opened without blocking (a FIFO put in its place is not waited on), read
	// blocking again; O_NOATIME kept (the file is the test's own)
	fl, err := unix.FcntlInt(uintptr(f.(*fdFile).fd), unix.F_GETFL, 0)
	must(err)
	if fl&unix.O_NONBLOCK != 0 || fl&unix.O_NOATIME == 0 {
		t.Errorf("file status flags %#x: O_NONBLOCK set or O_NOATIME cleared", fl)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "hello" {
		t.Fatalf("read %q %v", b, err)
	}
	if _, err := f.Seek(1, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(f)
	if string(b) != "ello" {
		t.Fatalf("after seek %q", b)
	}
	if _, err := listDir(filepath.Join(dir, "file")); err == nil {
		t.Error("listDir of a file gave no error")
	}
	// a file the walk saw as regular and that became a symlink before it was
	// opened is not followed (its target is not backed up under its name)
	if f, err := openSource(filepath.Join(dir, "link")); err == nil {
		f.Close()
		t.Error("openSource followed a symlink")
	} else if !errors.Is(err, syscall.ELOOP) {
		t.Errorf("openSource of a symlink: %v, want ELOOP", err)
	}
}

// A folder of more names than one getdents buffer holds is listed whole.
func TestListDirLarge(t *testing.T) {
	dir := t.TempDir()
	const n = 3000 // ~3000*40 bytes of dirents: two 64 KiB buffers
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, "some-longer-file-name-"+string(rune('a'+i%26))+itoa(i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := listDir(dir)
	if err != nil || len(ents) != n {
		t.Fatalf("listDir: %d entries, %v", len(ents), err)
	}
	for i := 1; i < len(ents); i++ {
		if ents[i-1].name >= ents[i].name {
			t.Fatalf("not sorted at %d: %s %s", i, ents[i-1].name, ents[i].name)
		}
	}
}

func itoa(i int) string { return string(strconv.AppendInt(nil, int64(i), 10)) }

// BenchmarkOpenSource is a backup reader's system calls for one small file:
// open, stat, read, close.
func BenchmarkOpenSource(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(p, make([]byte, 1000), 0o600); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	for b.Loop() {
		f, err := openSource(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Stat(); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Read(buf); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
