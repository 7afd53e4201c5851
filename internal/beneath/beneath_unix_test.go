//go:build unix

package beneath

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// outside is a folder beside the target that nothing may touch.
func outside(t *testing.T) string {
	t.Helper()
	o := filepath.Join(t.TempDir(), "outside")
	if err := os.Mkdir(o, 0o755); err != nil {
		t.Fatal(err)
	}
	return o
}

func assertUntouched(t *testing.T, o string) {
	t.Helper()
	ents, err := os.ReadDir(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("%s was written to: %v", o, ents)
	}
	fi, err := os.Stat(o)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("%s mode changed to %v", o, fi.Mode())
	}
}

// A link inside the target, whatever it points to, is never passed through: not by
// Mkdir, not by Create, not when dangling.
func TestLinksAreNotFollowed(t *testing.T) {
	o := outside(t)
	target := filepath.Join(t.TempDir(), "to")
	d, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	os.Symlink(o, filepath.Join(target, "d"))
	os.Symlink(filepath.Join(o, "new.txt"), filepath.Join(target, "dangling"))
	os.Symlink(".", filepath.Join(target, "self"))

	if _, err := d.Mkdir("d"); !errors.Is(err, ErrLink) {
		t.Errorf("Mkdir through a link: %v", err)
	}
	if _, err := d.OpenDir("self"); !errors.Is(err, ErrLink) {
		t.Errorf("OpenDir of a link inside the target: %v", err)
	}
	if _, err := d.Create("dangling", false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a dangling link: %v", err)
	}
	if _, err := d.Create("d", false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a link: %v", err)
	}
	if err := d.Symlink("/etc/passwd", "d"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Symlink over a link: %v", err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x"} {
		if _, err := d.Mkdir(bad); err == nil {
			t.Errorf("Mkdir(%q) accepted", bad)
		}
		if _, err := d.Create(bad, false); err == nil {
			t.Errorf("Create(%q) accepted", bad)
		}
	}
	assertUntouched(t, o)
}

// Metadata goes to the handle: a file swapped for a link after creation keeps the link's
// target unchanged.
func TestMetaOnHandles(t *testing.T) {
	o := outside(t)
	target := filepath.Join(t.TempDir(), "to")
	d, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := d.Create("f", false)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	// swap the file for a link to the outside folder
	os.Remove(filepath.Join(target, "f"))
	os.Symlink(o, filepath.Join(target, "f"))
	mt := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	d.SetFileMeta(f, "f", Meta{Mode: 0o777, Mtime: mt})
	f.Close()
	assertUntouched(t, o)
	if fi, _ := os.Stat(o); fi.ModTime().Equal(mt) {
		t.Errorf("times set through a link")
	}

	sub, err := d.Mkdir("sub")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetMeta(d, "sub", Meta{Mode: 0o4750, Mtime: mt}); err != nil {
		t.Fatal(err)
	}
	sub.Close()
	fi, err := os.Stat(filepath.Join(target, "sub"))
	if err != nil || fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(mt) {
		t.Errorf("folder meta: %v %v %v", fi.Mode(), fi.ModTime(), err)
	}
}

// Open refuses a target another user could have prepared in a folder everyone can
// write to, and creates a new one private.
func TestOpenInSharedFolder(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(shared, 0o777)
	if err := os.Chmod(shared, 0o1777); err != nil {
		t.Fatal(err)
	}
	o := outside(t)
	os.Symlink(o, filepath.Join(shared, "planted-link"))
	os.Mkdir(filepath.Join(shared, "planted-open"), 0o777)
	os.Chmod(filepath.Join(shared, "planted-open"), 0o777)
	// a folder that belongs to someone else
	other := filepath.Join(shared, "planted-other")
	os.Mkdir(other, 0o700)
	if os.Geteuid() == 0 {
		os.Chown(other, 65534, 65534)
	}
	for _, name := range []string{"planted-link", "planted-open", "planted-other"} {
		if name == "planted-other" && os.Geteuid() != 0 {
			continue // only root can give a folder away; the others cover non-root runs
		}
		_, err := Open(filepath.Join(shared, name))
		if !errors.Is(err, ErrPrepared) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// deeper components are created by us, so they are fine
	d, err := Open(filepath.Join(shared, "new", "deeper"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	fi, err := os.Lstat(filepath.Join(shared, "new"))
	if err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
		t.Errorf("new target: %v %v", fi.Mode(), err)
	}
	// the user's own private folder there is accepted (a second restore into it)
	d, err = Open(filepath.Join(shared, "new"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	assertUntouched(t, o)

	// outside shared folders, the user's own links on the way are followed
	mine := t.TempDir()
	real := filepath.Join(mine, "real")
	os.Mkdir(real, 0o755)
	os.Symlink(real, filepath.Join(mine, "link"))
	d, err = Open(filepath.Join(mine, "link", "x"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := os.Stat(filepath.Join(real, "x")); err != nil {
		t.Error(err)
	}
}

// As another user: /tmp-like folders owned by root are shared, and an existing folder
// there that the user does not own is refused. Run as root only (needs setuid).
func TestOpenAsOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("not root: TestOpenInSharedFolder covered the rule")
		return
	}
	// not below /tmp: for nobody, /tmp itself is shared and root's test folder in it is
	// (rightly) refused
	top, err := os.MkdirTemp("/", "beneath-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	os.Chmod(top, 0o755)
	shared := filepath.Join(top, "tmp")
	os.Mkdir(shared, 0o1777)
	os.Chmod(shared, 0o1777)
	os.Mkdir(filepath.Join(shared, "rootdir"), 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(filepath.Dir(shared), "beneath.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"rootdir": "prepared", "fresh": "ok"} {
		cmd := exec.Command(bin, "-test.run=^TestOpenChild$")
		cmd.Env = append(os.Environ(), "BENEATH_CHILD="+filepath.Join(shared, name))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if !containsLine(string(out), want) {
			t.Errorf("%s as nobody: %v %s", name, err, out)
		}
	}
	fi, err := os.Stat(filepath.Join(shared, "fresh"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); strconv.Itoa(int(st.Uid)) != "65534" || fi.Mode().Perm() != 0o700 {
		t.Errorf("fresh target: uid %d mode %v", st.Uid, fi.Mode())
	}
}

func containsLine(out, want string) bool {
	if want == "ok" {
		return strings.HasPrefix(out, "ok")
	}
	return strings.Contains(out, want)
}

func TestOpenChild(t *testing.T) {
	p := os.Getenv("BENEATH_CHILD")
	if p == "" {
		return
	}
	d, err := Open(p)
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	d.Close()
	os.Stdout.WriteString("ok\n")
	os.Exit(0)
}

// SetNewFileMeta skips the chown only for the owner new files get anyway: files of
// several owners in one folder, and in a setgid folder (new files take its group), each
// end up with the owner asked for.
func TestSetNewFileMetaOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owners are set only when running as root (make test runs as root)")
	}
	target := filepath.Join(t.TempDir(), "to")
	d, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sg, err := d.Mkdir("setgid")
	if err != nil {
		t.Fatal(err)
	}
	defer sg.Close()
	if err := unix.Fchown(sg.fd, 0, 777); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fchmod(sg.fd, 0o2755); err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Geteuid(), os.Getegid()
	mt := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	for _, c := range []struct {
		dir      *Dir
		name     string
		uid, gid int
	}{
		{d, "mine", uid, gid}, {d, "theirs", 4321, 8765}, {d, "group", uid, 8765}, {d, "mine2", uid, gid},
		// a setgid folder gives new files its group (777): root:root is a change there
		{sg, "root", uid, gid}, {sg, "inherited", uid, 777}, {sg, "theirs", 4321, 777}, {sg, "root2", 0, 0},
	} {
		f, err := c.dir.CreatePerm(c.name, false, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.dir.SetNewFileMeta(f, c.name, Meta{Mode: 0o640, Chown: true, UID: c.uid, GID: c.gid, Mtime: mt}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		fi, err := os.Lstat(filepath.Join(c.dir.Path(), c.name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != c.uid || int(st.Gid) != c.gid || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mt) {
			t.Errorf("%s: owner %d:%d mode %v mtime %v, want %d:%d 0640 %v", fi.Name(), st.Uid, st.Gid, fi.Mode(), fi.ModTime(), c.uid, c.gid, mt)
		}
	}
}

// SetNewFileMeta skips the chmod only when the mode a file was made with is its final
// one: under a umask that takes bits away, every file ends with the mode asked for.
func TestSetNewFileMetaModes(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	target := filepath.Join(t.TempDir(), "to")
	d, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	mt := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	subs := map[string]*Dir{}
	for _, c := range []struct {
		dir  string
		name string
		mode uint32
	}{
		// learned from a: 0640 is made as it is
		{"one", "a", 0o640}, {"one", "b", 0o640}, {"one", "c", 0o666}, {"one", "d", 0o644}, {"one", "e", 0o600},
		{"one", "f", 0o2640}, {"one", "g", 0o640},
		// learned from a file the umask changed
		{"two", "a", 0o666}, {"two", "b", 0o666}, {"two", "c", 0o640}, {"two", "d", 0o755},
	} {
		sub, err := d.Mkdir(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		// the same folder handle for all files of a folder
		if c.name != "a" {
			sub.Close()
			sub = subs[c.dir]
		} else {
			subs[c.dir] = sub
		}
		f, err := sub.CreatePerm(c.name, false, c.mode&0o777)
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.SetNewFileMeta(f, c.name, Meta{Mode: c.mode, Mtime: mt}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(target, c.dir, c.name), &st); err != nil {
			t.Fatal(err)
		}
		if got := uint32(st.Mode) & 0o7777; got != c.mode {
			t.Errorf("%s/%s: mode %o, want %o", c.dir, c.name, got, c.mode)
		}
	}
	for _, s := range subs {
		s.Close()
	}
}

// File, the handle CreatePerm gives, reads and writes at offsets as os.File does: a read
// past the end stops with io.EOF and what it read, a write fills the gap before it with
// zeros, Truncate cuts, and a second Close fails with os.ErrClosed.
func TestFile(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "to"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := d.CreatePerm("f", true, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.WriteAt([]byte("hello"), 5); n != 5 || err != nil {
		t.Fatalf("WriteAt: %d, %v", n, err)
	}
	b := make([]byte, 8)
	if n, err := f.ReadAt(b, 0); n != 8 || err != nil || string(b) != "\x00\x00\x00\x00\x00hel" {
		t.Fatalf("ReadAt(0): %d, %v, %q", n, err, b)
	}
	if n, err := f.ReadAt(b, 7); n != 3 || err != io.EOF || string(b[:n]) != "llo" {
		t.Fatalf("ReadAt(7) of a 10-byte file: %d, %v, %q; want 3, EOF, \"llo\"", n, err, b[:n])
	}
	if err := f.Truncate(6); err != nil {
		t.Fatal(err)
	}
	if n, err := f.ReadAt(b, 0); n != 6 || err != io.EOF {
		t.Fatalf("ReadAt after Truncate(6): %d, %v", n, err)
	}
	if f.Name() != filepath.Join(d.Path(), "f") {
		t.Fatalf("Name %q", f.Name())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second Close: %v, want os.ErrClosed", err)
	}
	if err := d.SetNewFileMeta(f, "f", Meta{Mode: 0o600}); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("SetNewFileMeta of a closed file: %v, want os.ErrClosed", err)
	}
}
