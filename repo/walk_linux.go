package repo

import (
	"io"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A backup of many small files spends most of its walk in system calls: on
// Linux the walker lists a folder with getdents into a large reused buffer
// and stats each entry relative to the folder's descriptor (fstatat: no
// path lookup from /), and readers read files through bare descriptors (an
// os.File registers every descriptor with the poller first: one more system
// call per file, refused for a regular file anyway).

// statInfo is the os.FileInfo of a stat structure, as os.Lstat makes it.
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }

func (s *statInfo) Mode() os.FileMode { return typeMode(s.st.Mode) }

// ustat is st as x/sys/unix's stat structure: the same kernel structure on
// every Linux (the sizes are checked here at compile time, the fields by
// TestListDirMatchesLstat).
func ustat(st *syscall.Stat_t) *unix.Stat_t { return (*unix.Stat_t)(unsafe.Pointer(st)) }

var (
	_ [unsafe.Sizeof(unix.Stat_t{}) - unsafe.Sizeof(syscall.Stat_t{})]byte
	_ [unsafe.Sizeof(syscall.Stat_t{}) - unsafe.Sizeof(unix.Stat_t{})]byte
)

// openFD opens a file or folder to back it up, read-only, without changing its access
// time (O_NOATIME, as restic and borg do): the access times stay the person's own, and
// an unchanged folder gives the same tree in the next backup (with its files' access
// times changed by the backup's own reads, every tree of an incremental was new). The
// flag is refused for a file that is neither the user's nor root's to read so: it is
// then opened as usual.
func openFD(p string, flags int) (int, error) {
	fd, _, err := openFDFlags(p, flags)
	return fd, err
}

// openFDFlags is openFD that also says whether the file was opened with O_NOATIME.
func openFDFlags(p string, flags int) (fd int, noatime bool, err error) {
	for {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOATIME|flags, 0)
		switch err {
		case nil:
			return fd, true, nil
		case unix.EINTR:
			continue
		case unix.EPERM:
			// O_NOATIME is refused for another user's file
			fd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|flags, 0)
			if err == unix.EINTR {
				continue
			}
		}
		if err != nil {
			return -1, false, err
		}
		return fd, false, nil
	}
}

// direntBufs are getdents buffers: one per walker at a time, reused.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// listDir lists folder path sorted by name, each entry with its lstat
// metadata (taken relative to the folder). An entry that vanished in
// between is left out; one that cannot be stat'ed has its error.
//
// The folder is opened without following a link (O_NOFOLLOW|O_DIRECTORY: ELOOP
// for a symlink, ENOTDIR for anything else) and fstat checks it is a folder:
// a symlink or a file put in its place since the walk found it (listed in its
// parent, or named by the person: a named symlink is stored as a link and never
// listed) is refused with NotFolderError, so the walk does not go on into a
// link's target, perhaps outside what is backed up. One fstat more per folder.
func listDir(path string) ([]dirInfo, error) {
	fd, err := openFD(path, unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err == unix.ELOOP || err == unix.ENOTDIR {
		return nil, openRefused(path, err, true)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := checkFD(fd, path, &st, true, -1); err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var names []string
	var lerr error
	for {
		n, err := unix.Getdents(fd, *bp)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			lerr = &os.PathError{Op: "readdirent", Path: path, Err: err}
			break
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent((*bp)[:n], -1, names)
	}
	if names == nil && lerr != nil {
		return nil, lerr
	}
	sort.Strings(names)
	out := make([]dirInfo, 0, len(names))
	infos := make([]statInfo, len(names))
	for i, name := range names {
		si := &infos[i]
		si.name = name
		var err error
		for {
			err = unix.Fstatat(fd, name, ustat(&si.st), unix.AT_SYMLINK_NOFOLLOW)
			if err != unix.EINTR {
				break
			}
		}
		if err == unix.ENOENT {
			continue
		}
		d := dirInfo{name: name, fi: si}
		if err != nil {
			d.fi, d.err = nil, &os.PathError{Op: "lstat", Path: path + "/" + name, Err: err}
		}
		out = append(out, d)
	}
	return out, lerr
}

// fdFile is a file read through its bare descriptor.
type fdFile struct {
	fd   int
	name string
	si   statInfo // its metadata when it was opened
}

// openSource opens a file the walk found regular, to back it up, and refuses
// anything else put in its place since (NotRegularError, warned as the file's
// error; the backup goes on):
//   - a symlink is not followed (O_NOFOLLOW: ELOOP): its target, perhaps outside
//     what is backed up, would be stored under the file's name;
//   - a named pipe or a device is opened without waiting (O_NONBLOCK: opening a
//     FIFO nobody writes to would wait for a writer for good, and the backup with
//     it), then seen by fstat and closed unread. O_NOCTTY: a terminal opened so
//     does not become the process's controlling terminal.
//
// O_NONBLOCK is cleared again before the file is read (FUSE file systems pass
// it on to their server). Besides open and close, each file costs an fstat (Stat
// returns its result: readFile stats no more) and that fcntl: one system call more
// than before the checks.
func openSource(p string) (sourceFile, error) {
	fd, noatime, err := openFDFlags(p, unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err == unix.ELOOP {
		return nil, openRefused(p, err, false)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	f := &fdFile{fd: fd, name: p, si: statInfo{name: p}}
	// F_SETFL sets the status flags that can change (O_APPEND, O_ASYNC, O_DIRECT,
	// O_NOATIME, O_NONBLOCK) to its argument: O_NOATIME stays as open left it.
	keep := 0
	if noatime {
		keep = unix.O_NOATIME
	}
	if err := checkFD(fd, p, ustat(&f.si.st), false, keep); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fdFile) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(f.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *fdFile) Seek(off int64, whence int) (int64, error) {
	n, err := unix.Seek(f.fd, off, whence)
	if err != nil {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: err}
	}
	return n, nil
}

// Stat is the file's metadata as openSource took it, right after the open.
func (f *fdFile) Stat() (os.FileInfo, error) { return &f.si, nil }

func (f *fdFile) Close() error {
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}
