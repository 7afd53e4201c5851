package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"travelkit/internal/beneath"
	"travelkit/internal/craftrepo"
)

const craftPassword = "crafted"

var craftTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// craftOpen writes a crafted repository and opens it with travelkit.
func craftOpen(t *testing.T, r *craftrepo.Repo) *Repository {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	rr, err := Open(context.Background(), NewFolder(dir), []byte(craftPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rr.Close() }) // Windows removes no open file, nor its folder
	if err := rr.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rr
}

// outsideFolder is a folder next to the restore target that a restore must not touch.
func outsideFolder(t *testing.T) string {
	t.Helper()
	o := filepath.Join(t.TempDir(), "outside")
	if err := os.Mkdir(o, 0o755); err != nil {
		t.Fatal(err)
	}
	return o
}

func checkOutside(t *testing.T, o string) {
	t.Helper()
	ents, _ := os.ReadDir(o)
	if len(ents) != 0 {
		t.Errorf("restore wrote outside its target: %s holds %v", o, ents)
	}
	if fi, err := os.Stat(o); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o755) {
		t.Errorf("restore changed %s: %v %v", o, fi.Mode(), err)
	}
}

// linkMade says whether the restore of a symlink made one: Windows needs a privilege (or
// developer mode) for symbolic links, and Wine 8 only pretends to make them.
func linkMade(t *testing.T, p string) bool {
	fi, err := os.Lstat(p)
	if err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return true
	}
	t.Logf("%s: no symbolic link was made on this system (%v): only the outside folder is checked", p, err)
	return false
}

func restoreAll(t *testing.T, r *Repository, target string) []error {
	t.Helper()
	ctx := context.Background()
	sns, err := r.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var warns []error
	for _, sn := range sns {
		_, err := r.Restore(ctx, sn, RestoreOptions{Target: target, Warn: func(p string, err error) { warns = append(warns, err) }})
		if err != nil {
			warns = append(warns, err)
		}
	}
	return warns
}

// A snapshot with a symlink d -> /outside, then one with a folder d/ holding pwn.txt, both
// restored into one folder: restic 0.14 (and travelkit before) wrote /outside/pwn.txt and
// changed /outside's mode. Links are refused, never passed through.
func TestRestoreNeverWritesThroughLinks(t *testing.T) {
	for _, tc := range []struct{ name, link string }{
		{"absolute", ""},
		{"relative", "../outside"},
		{"inside the target", "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := outsideFolder(t)
			target := filepath.Join(filepath.Dir(o), "to")
			link := tc.link
			if link == "" {
				link = o
			}
			c := craftrepo.New(craftPassword)
			s1 := c.Tree(craftrepo.Symlink("d", link))
			c.Snapshot(s1, craftTime, "/")
			pwn := c.Tree(c.FileBlob("pwn.txt", 0o644, []byte("owned\n")))
			s2 := c.Tree(craftrepo.Dir("d", pwn, 0o777))
			c.Snapshot(s2, craftTime.Add(1), "/")
			r := craftOpen(t, c)
			warns := restoreAll(t, r, target)
			checkOutside(t, o)
			if _, err := os.Lstat(filepath.Join(target, "pwn.txt")); err == nil {
				t.Error("written through a link inside the target")
			}
			if !linkMade(t, filepath.Join(target, "d")) {
				return
			}
			found := false
			for _, w := range warns {
				found = found || errors.Is(w, beneath.ErrLink)
			}
			if !found {
				t.Errorf("no warning names the link: %v", warns)
			}
		})
	}
}

// Two entries of one name in one tree (a crafted tree): the link first, then a folder.
func TestRestoreDuplicateNameLinkThenFolder(t *testing.T) {
	o := outsideFolder(t)
	c := craftrepo.New(craftPassword)
	pwn := c.Tree(c.FileBlob("pwn.txt", 0o644, []byte("owned\n")))
	c.Snapshot(c.Tree(craftrepo.Symlink("d", o), craftrepo.Dir("d", pwn, 0o777)), craftTime, "/")
	r := craftOpen(t, c)
	restoreAll(t, r, filepath.Join(filepath.Dir(o), "to"))
	checkOutside(t, o)
}

// setuid and setgid bits come back only when asked; device nodes never.
func TestRestoreSetuidAndDevices(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Log("no setuid bits on Windows")
		return
	}
	c := craftrepo.New(craftPassword)
	f := c.FileBlob("tool", 0o755, []byte("#!/bin/sh\n"))
	f.Mode |= craftrepo.ModeSetuid | craftrepo.ModeSetgid
	dev := craftrepo.Node{Name: "sda", Type: "dev", Mode: craftrepo.ModeDevice | 0o666, Device: 8 << 8, Content: []craftrepo.ID{}}
	cdev := craftrepo.Node{Name: "mem", Type: "chardev", Mode: craftrepo.ModeDevice | craftrepo.ModeCharDev | 0o666, Device: 1<<8 | 1, Content: []craftrepo.ID{}}
	c.Snapshot(c.Tree(f, dev, cdev), craftTime, "/")
	r := craftOpen(t, c)
	ctx := context.Background()
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []bool{false, true} {
		target := filepath.Join(t.TempDir(), "to")
		devices := 0
		_, err := r.Restore(ctx, sn, RestoreOptions{Target: target, KeepSetuid: keep, Warn: func(p string, err error) {
			if errors.Is(err, ErrDevice) {
				devices++
			} else {
				t.Errorf("%s: %v", p, err)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(target, "tool"))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o755)
		if keep {
			want |= os.ModeSetuid | os.ModeSetgid
		}
		if fi.Mode() != want {
			t.Errorf("keep setuid %v: mode %v, want %v", keep, fi.Mode(), want)
		}
		for _, d := range []string{"sda", "mem"} {
			if _, err := os.Lstat(filepath.Join(target, d)); err == nil {
				t.Errorf("device node %s restored", d)
			}
		}
		if devices != 2 {
			t.Errorf("%d device warnings, want 2", devices)
		}
	}
}

// A hard link's second name is made next to the first through the folders the restore
// made, never through a link placed later.
func TestRestoreHardLinks(t *testing.T) {
	c := craftrepo.New(craftPassword)
	a := c.FileBlob("a", 0o644, []byte("shared content\n"))
	a.Links, a.Inode, a.DeviceID = 2, 77, 1
	b := a
	b.Name = "b"
	sub := c.Tree(b)
	c.Snapshot(c.Tree(a, craftrepo.Dir("sub", sub, 0o755)), craftTime, "/")
	r := craftOpen(t, c)
	target := filepath.Join(t.TempDir(), "to")
	if warns := restoreAll(t, r, target); len(warns) > 0 {
		t.Fatal(warns)
	}
	fa, err1 := os.Stat(filepath.Join(target, "a"))
	fb, err2 := os.Stat(filepath.Join(target, "sub", "b"))
	if err1 != nil || err2 != nil || !os.SameFile(fa, fb) {
		t.Errorf("hard link not restored: %v %v", err1, err2)
	}
}
