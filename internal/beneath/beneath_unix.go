//go:build unix

package beneath

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const osSeparator = '/'

// Dir is an opened folder. Its methods create and open entries in it by name.
type Dir struct {
	fd   int
	path string // for messages only: never used to reach the folder
	// newFile is what files made by CreatePerm in this folder get, learned from the
	// first one SetNewFileMeta sees (nil until then)
	newFile atomic.Pointer[newFile]
}

// newFile is the owner a new file in a folder gets, and the mode it got for a
// permission asked of CreatePerm (the process's umask and the folder's default ACL can
// take bits away).
type newFile struct {
	uid, gid  uint32
	perm, got uint32
}

// Path is the folder's path as the caller named it.
func (d *Dir) Path() string { return d.path }

// Close releases the folder's handle.
func (d *Dir) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC

// Open opens the folder path, creating it (and missing parents, private to the user) when
// it does not exist. Links among the path's existing components are followed, as the user
// named them, with one exception: inside a folder every user can write to (like /tmp, also
// when the user owns it, as root owns /tmp), the next component must be one nobody else
// can have prepared: new (it is then created with mode 0700), or already the user's own,
// not a link and writable by nobody else. Anything else is refused (ErrPrepared).
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open("/", dirFlags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	cur := "/"
	uid := os.Geteuid()
	for _, name := range strings.Split(abs, "/") {
		if name == "" {
			continue
		}
		next := pathJoin(cur, name)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, &os.PathError{Op: "stat", Path: cur, Err: err}
		}
		shared := st.Mode&unix.S_IWOTH != 0
		created := false
		switch err := unix.Mkdirat(fd, name, 0o700); {
		case err == nil:
			created = true
		case errors.Is(err, unix.EEXIST):
		default:
			unix.Close(fd)
			return nil, &os.PathError{Op: "mkdir", Path: next, Err: err}
		}
		flags := dirFlags
		if shared || created {
			flags |= unix.O_NOFOLLOW
		}
		nfd, err := unix.Openat(fd, name, flags, 0)
		if err != nil {
			err = classify(fd, name, next, "open", err)
			if shared && errors.Is(err, ErrLink) {
				err = fmt.Errorf("%s is a link in %s, a folder every user can write to, so %w: restore into a new folder there (it is created private to you) or into a folder of your own", next, cur, ErrPrepared)
			}
			unix.Close(fd)
			return nil, err
		}
		unix.Close(fd)
		parent := cur
		fd, cur = nfd, next
		if shared || created {
			// nobody else can have prepared a folder that is the user's own and private
			if err := unix.Fstat(fd, &st); err != nil || int(st.Uid) != uid || st.Mode&0o022 != 0 {
				unix.Close(fd)
				if created {
					return nil, fmt.Errorf("%s was replaced while travelkit created it, so %w; restore into a folder of your own", next, ErrPrepared)
				}
				return nil, fmt.Errorf("%s already exists in %s, a folder every user can write to, and is not private to you, so %w: restore into a new folder there (it is created private to you) or into a folder of your own", next, parent, ErrPrepared)
			}
		}
	}
	return &Dir{fd: fd, path: abs}, nil
}

// classify turns the error of opening name without following links into ErrLink when
// name is a link.
func classify(dirfd int, name, path, op string, err error) error {
	var st unix.Stat_t
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EMLINK) {
		if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return fmt.Errorf("%s %w", path, ErrLink)
		}
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

// Mkdir makes the folder name (mode 0700, until SetDirMeta) or opens it when it exists,
// and returns it opened. A link there is refused, never followed.
func (d *Dir) Mkdir(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	p := pathJoin(d.path, name)
	if err := unix.Mkdirat(d.fd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &os.PathError{Op: "mkdir", Path: p, Err: err}
	}
	return d.openDir(name, p)
}

// OpenDir opens the existing folder name; a link there is refused.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return d.openDir(name, pathJoin(d.path, name))
}

func (d *Dir) openDir(name, p string) (*Dir, error) {
	fd, err := unix.Openat(d.fd, name, dirFlags|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, classify(d.fd, name, p, "open", err)
	}
	return &Dir{fd: fd, path: p}, nil
}

// Create makes the new file name (mode 0600 until SetFileMeta), for writing and, with
// read, reading. It never opens an existing file or a link: those fail with an error
// matching fs.ErrExist.
func (d *Dir) Create(name string, read bool) (*os.File, error) {
	fd, p, err := d.create(name, read, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), p), nil
}

// create is Create's work: the descriptor of the new file name and its path.
func (d *Dir) create(name string, read bool, perm uint32) (int, string, error) {
	if err := checkName(name); err != nil {
		return -1, "", err
	}
	flags := unix.O_WRONLY
	if read {
		flags = unix.O_RDWR
	}
	p := pathJoin(d.path, name)
	fd, err := unix.Openat(d.fd, name, flags|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm&0o777)
	if err != nil {
		return -1, "", &os.PathError{Op: "create", Path: p, Err: err}
	}
	return fd, p, nil
}

// File is a new file CreatePerm made, held by its descriptor alone: os.NewFile asks the
// system for a descriptor's flags (fcntl) and sets a finalizer, a system call and an
// allocation per file that a restore of many small files paid 300,000 times. Its methods
// are not safe to call concurrently with Close.
type File struct {
	fd   int
	name string
}

// Name is the file's path, for messages.
func (f *File) Name() string { return f.name }

// Fd is the file's descriptor.
func (f *File) Fd() uintptr { return uintptr(f.fd) }

// WriteAt writes all of b at off.
func (f *File) WriteAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pwrite(f.fd, b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, &os.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
		n += m
	}
	return n, nil
}

// ReadAt reads len(b) bytes at off, fewer only with an error: io.EOF at the file's end.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(f.fd, b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Truncate sets the file's size.
func (f *File) Truncate(size int64) error {
	for {
		err := unix.Ftruncate(f.fd, size)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "truncate", Path: f.name, Err: err}
		}
		return nil
	}
}

// Close releases the descriptor.
func (f *File) Close() error {
	if f.fd < 0 {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// CreatePerm is Create with the permission bits perm (0777 at most) asked of the system
// for the new file (which takes away those of the umask); SetNewFileMeta then needs no
// chmod when they are the file's final ones.
func (d *Dir) CreatePerm(name string, read bool, perm uint32) (*File, error) {
	fd, p, err := d.create(name, read, perm)
	if err != nil {
		return nil, err
	}
	return &File{fd: fd, name: p}, nil
}

// Symlink makes the symbolic link name pointing to target. The link is created, never
// followed: target may point anywhere.
func (d *Dir) Symlink(target, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := unix.Symlinkat(target, d.fd, name); err != nil {
		return &os.PathError{Op: "symlink", Path: pathJoin(d.path, name), Err: err}
	}
	return nil
}

// Link makes name a hard link to oldName in old. A link at oldName is linked itself,
// never followed.
func (d *Dir) Link(old *Dir, oldName, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := checkName(oldName); err != nil {
		return err
	}
	if err := unix.Linkat(old.fd, oldName, d.fd, name, 0); err != nil {
		return &os.PathError{Op: "link", Path: pathJoin(d.path, name), Err: err}
	}
	return nil
}

// Mkfifo makes the named pipe name and sets its metadata.
func (d *Dir) Mkfifo(name string, m Meta) error {
	if err := checkName(name); err != nil {
		return err
	}
	p := pathJoin(d.path, name)
	if err := mkfifoat(d.fd, name, 0o600); err != nil {
		return &os.PathError{Op: "mkfifo", Path: p, Err: err}
	}
	// opened for reading without blocking, and never through a link swapped in
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return classify(d.fd, name, p, "open", err)
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	return d.SetFileMeta(f, name, m)
}

// SetFileMeta sets owner (when m.Chown), mode and times of f, which is name in d: on the
// handle (times through name with the no-follow call where the system has no futimens).
func (d *Dir) SetFileMeta(f *os.File, name string, m Meta) error {
	var errs []error
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		errs = append(errs, fdMeta(int(fd), f.Name(), m), d.fdTimes(int(fd), name, m))
	})
	errs = append(errs, cerr)
	return errors.Join(errs...)
}

// SetNewFileMeta is SetFileMeta for a file f that d.CreatePerm made with the permission
// bits of m (m.Mode & 0777) and nothing has changed since: the owner is set only when it
// differs from the one files made in d get, and the mode only when it differs from the
// one a file made with the same permission got, both learned once per folder from the
// first such file (one fstat), so that a restore run as root of files that root owns
// changes no owner, and files whose permission the umask leaves alone need no chmod.
func (d *Dir) SetNewFileMeta(f *File, name string, m Meta) error {
	if f.fd < 0 {
		return &os.PathError{Op: "chtimes", Path: f.name, Err: os.ErrClosed}
	}
	perm := m.Mode & 0o777
	var errs []error
	nf := d.newFile.Load()
	if nf == nil {
		var st unix.Stat_t
		if unix.Fstat(f.fd, &st) == nil {
			nf = &newFile{uid: st.Uid, gid: st.Gid, perm: perm, got: uint32(st.Mode) & 0o7777}
			d.newFile.CompareAndSwap(nil, nf)
		}
	}
	chown := m.Chown && (nf == nil || nf.uid != uint32(m.UID) || nf.gid != uint32(m.GID))
	if chown {
		if err := unix.Fchown(f.fd, m.UID, m.GID); err != nil {
			errs = append(errs, &os.PathError{Op: "chown", Path: f.name, Err: err})
		}
	}
	// a chown takes setuid and setgid bits away, so only when none are asked for can
	// the mode the file was made with be its final one
	if nf == nil || nf.perm != perm || nf.got != m.Mode&0o7777 {
		if err := unix.Fchmod(f.fd, m.Mode&0o7777); err != nil {
			errs = append(errs, &os.PathError{Op: "chmod", Path: f.name, Err: err})
		}
	}
	errs = append(errs, d.fdTimes(f.fd, name, m))
	return errors.Join(errs...)
}

// fdMeta sets owner then mode (a chown clears setuid bits) on an open handle.
func fdMeta(fd int, p string, m Meta) error {
	var errs []error
	if m.Chown {
		if err := unix.Fchown(fd, m.UID, m.GID); err != nil {
			errs = append(errs, &os.PathError{Op: "chown", Path: p, Err: err})
		}
	}
	if err := unix.Fchmod(fd, m.Mode&0o7777); err != nil {
		errs = append(errs, &os.PathError{Op: "chmod", Path: p, Err: err})
	}
	return errors.Join(errs...)
}

// SetMeta sets owner and mode of the folder d itself, and its times through parent, which
// holds it as name. parent may be nil (times are then left alone).
func (d *Dir) SetMeta(parent *Dir, name string, m Meta) error {
	err := fdMeta(d.fd, d.path, m)
	if parent != nil {
		err = errors.Join(err, parent.Chtimes(name, m))
	}
	return err
}

// times are the access and modification times of m (the modification time for both
// when m has no access time).
func times(m Meta) [2]unix.Timespec {
	ts := [2]unix.Timespec{unix.NsecToTimespec(m.Atime.UnixNano()), unix.NsecToTimespec(m.Mtime.UnixNano())}
	if m.Atime.IsZero() {
		ts[0] = ts[1]
	}
	return ts
}

// Chtimes sets the access and modification times of name without following a link.
func (d *Dir) Chtimes(name string, m Meta) error {
	ts := times(m)
	if err := unix.UtimesNanoAt(d.fd, name, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chtimes", Path: pathJoin(d.path, name), Err: err}
	}
	return nil
}

// SetLinkMeta sets the owner (when m.Chown) and times of the symbolic link name itself.
func (d *Dir) SetLinkMeta(name string, m Meta) error {
	var err error
	if m.Chown {
		if e := unix.Fchownat(d.fd, name, m.UID, m.GID, unix.AT_SYMLINK_NOFOLLOW); e != nil {
			err = &os.PathError{Op: "lchown", Path: pathJoin(d.path, name), Err: e}
		}
	}
	return errors.Join(err, d.Chtimes(name, m))
}

// IsRoot reports whether the process runs with root rights (owners can be restored).
func IsRoot() bool { return os.Geteuid() == 0 }
