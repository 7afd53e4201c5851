package boot

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// cpio file modes (the S_IF* bits of stat(2)).
const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeCharDev = 0o020000
)

// cpioEntry is one entry of a newc ("070701") cpio archive, the format the kernel
// unpacks into its rootfs.
type cpioEntry struct {
	Name string // absolute path in the archive
	Mode uint32 // type bits | permission bits
	Data []byte // file content or symlink target
	// Major and Minor number a device node (rdev).
	Major, Minor uint32
}

// Archive is a set of entries by path for a newc cpio archive, the format the kernel
// unpacks into its rootfs; parent directories are added on write. The zero value is not
// usable: make one with NewArchive.
type Archive struct{ t cpioTree }

// NewArchive returns an empty archive.
func NewArchive() *Archive { return &Archive{t: cpioTree{}} }

// AddFile adds a regular file with permission bits perm.
func (a *Archive) AddFile(name string, perm uint32, data []byte) { a.t.addFile(name, perm, data) }

// AddSymlink adds a symbolic link.
func (a *Archive) AddSymlink(name, target string) { a.t.addSymlink(name, target) }

// AddCharDev adds a character device node.
func (a *Archive) AddCharDev(name string, perm, major, minor uint32) {
	a.t.addCharDev(name, perm, major, minor)
}

// Has reports whether the archive holds name.
func (a *Archive) Has(name string) bool {
	_, ok := a.t[path.Clean("/"+name)]
	return ok
}

// Write writes the archive, uncompressed (the fastest for a kernel to unpack, also
// under emulation): every missing parent directory, entries in path order, the trailer.
func (a *Archive) Write(w io.Writer) error { return a.t.write(w) }

// cpioTree is a set of entries by path; parent directories are added on write.
type cpioTree map[string]cpioEntry

func (t cpioTree) addFile(name string, perm uint32, data []byte) {
	name = path.Clean("/" + name)
	t[name] = cpioEntry{Name: name, Mode: modeFile | perm, Data: data}
}

func (t cpioTree) addSymlink(name, target string) {
	name = path.Clean("/" + name)
	t[name] = cpioEntry{Name: name, Mode: modeSymlink | 0o777, Data: []byte(target)}
}

func (t cpioTree) addCharDev(name string, perm, major, minor uint32) {
	name = path.Clean("/" + name)
	t[name] = cpioEntry{Name: name, Mode: modeCharDev | perm, Major: major, Minor: minor}
}

func (t cpioTree) addDir(name string) {
	name = path.Clean("/" + name)
	if name == "/" {
		return
	}
	if _, ok := t[name]; !ok {
		t[name] = cpioEntry{Name: name, Mode: modeDir | 0o755}
	}
}

// write writes the archive: every missing parent directory, entries in path order
// (a directory before what it holds), then the trailer.
func (t cpioTree) write(w io.Writer) error {
	for name := range t {
		for d := path.Dir(name); d != "/"; d = path.Dir(d) {
			t.addDir(d)
		}
	}
	names := make([]string, 0, len(t))
	for name := range t {
		names = append(names, name)
	}
	sort.Strings(names)
	bw := bufio.NewWriterSize(w, 1<<20)
	ino := uint32(1)
	for _, name := range names {
		e := t[name]
		if err := writeCpioEntry(bw, ino, strings.TrimPrefix(e.Name, "/"), e); err != nil {
			return err
		}
		ino++
	}
	if err := writeCpioEntry(bw, 0, "TRAILER!!!", cpioEntry{}); err != nil {
		return err
	}
	return bw.Flush()
}

func writeCpioEntry(w io.Writer, ino uint32, name string, e cpioEntry) error {
	mode, data := e.Mode, e.Data
	nlink := uint32(1)
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	// rdevmajor, rdevminor, namesize (with the NUL), check.
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, e.Major, e.Minor, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+4)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	_, err := w.Write(make([]byte, (4-len(data)%4)%4))
	return err
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
