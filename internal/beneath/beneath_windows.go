//go:build windows

package beneath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

const osSeparator = '\\'

// Dir is an opened folder. Its methods create and open entries in it by name, relative to
// its handle (NtCreateFile with a root directory). The handle is opened without
// FILE_SHARE_DELETE, so nobody renames or removes the folder while it is open.
type Dir struct {
	h    windows.Handle
	path string // for messages only
}

// Path is the folder's path as the caller named it.
func (d *Dir) Path() string { return d.path }

// Close releases the folder's handle.
func (d *Dir) Close() error {
	if d == nil || d.h == windows.InvalidHandle {
		return nil
	}
	err := windows.CloseHandle(d.h)
	d.h = windows.InvalidHandle
	return err
}

const (
	dirAccess = windows.FILE_LIST_DIRECTORY | windows.FILE_TRAVERSE | windows.FILE_READ_ATTRIBUTES |
		windows.FILE_WRITE_ATTRIBUTES | windows.READ_CONTROL | windows.SYNCHRONIZE
	shareNoDelete = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE
	// a reparse point whose tag has this bit names another file: symbolic links, junctions
	// (mount points) and the like; other tags (OneDrive's cloud files, dedup) are data
	nameSurrogate = 0x20000000
	// NT information class of FILE_LINK_INFORMATION
	fileLinkInformation = 11
	// access rights on a folder: add a file, add a subfolder
	fileAddFile         = 0x2
	fileAddSubdirectory = 0x4
	// CreateSymbolicLink flag (Windows 10 1703): no privilege needed in developer mode
	symlinkAllowUnprivileged = 0x2
)

// ntCreate opens or creates name relative to root, never following a reparse point in
// name (FILE_OPEN_REPARSE_POINT: a link is opened as itself).
func ntCreate(root windows.Handle, name string, access, share, disposition, options uint32, sd *windows.SECURITY_DESCRIPTOR) (windows.Handle, error) {
	objName, err := windows.NewNTUnicodeString(name)
	if err != nil {
		return windows.InvalidHandle, err
	}
	oa := windows.OBJECT_ATTRIBUTES{RootDirectory: root, ObjectName: objName, Attributes: windows.OBJ_CASE_INSENSITIVE, SecurityDescriptor: sd}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, access|windows.SYNCHRONIZE, &oa, &iosb, nil, windows.FILE_ATTRIBUTE_NORMAL, share,
		disposition, options|windows.FILE_SYNCHRONOUS_IO_NONALERT|windows.FILE_OPEN_REPARSE_POINT, 0, 0)
	if err != nil {
		var st windows.NTStatus
		if errors.As(err, &st) {
			return windows.InvalidHandle, st.Errno()
		}
		return windows.InvalidHandle, err
	}
	return h, nil
}

// isLink reports whether the opened h is a name-surrogate reparse point.
func isLink(h windows.Handle) (bool, error) {
	var info struct {
		Attributes uint32
		Tag        uint32
	}
	if err := windows.GetFileInformationByHandleEx(h, windows.FileAttributeTagInfo, (*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		return false, err
	}
	return info.Attributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 && info.Tag&nameSurrogate != 0, nil
}

// Open opens the folder path, creating it (and missing parents) when it does not exist.
// Links among the existing components are followed, as the user named them, except in a
// folder that every user can add folders to (like C:\): there the next component must be
// new, and it is created with a protected ACL giving access to the user, SYSTEM and
// Administrators only. An existing one is refused (ErrPrepared).
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	vol := filepath.VolumeName(abs)
	root := vol + `\`
	rp, err := windows.UTF16PtrFromString(root)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(rp, dirAccess, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	private, err := privateSD()
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	cur := root
	for _, name := range strings.Split(abs[len(vol):], `\`) {
		if name == "" {
			continue
		}
		next := pathJoin(cur, name)
		shared := sharedFolder(h)
		created := true
		nh, err := ntCreate(h, name, dirAccess, shareNoDelete, windows.FILE_CREATE, windows.FILE_DIRECTORY_FILE, private)
		if errors.Is(err, os.ErrExist) {
			created = false
			nh, err = ntCreate(h, name, dirAccess, shareNoDelete, windows.FILE_OPEN, windows.FILE_DIRECTORY_FILE, nil)
		}
		if err != nil {
			windows.CloseHandle(h)
			return nil, &os.PathError{Op: "open", Path: next, Err: err}
		}
		if shared && !created {
			windows.CloseHandle(h)
			windows.CloseHandle(nh)
			return nil, fmt.Errorf("%s already exists in %s, a folder every user can add folders to, so %w: restore into a new folder there (it is created private to you) or into a folder of your own", next, cur, ErrPrepared)
		}
		if link, lerr := isLink(nh); lerr == nil && link {
			windows.CloseHandle(nh)
			if shared || created {
				windows.CloseHandle(h)
				return nil, fmt.Errorf("%s %w", next, ErrLink)
			}
			// the user's own link on the way: followed, as they named it
			np, perr := windows.UTF16PtrFromString(next)
			if perr != nil {
				windows.CloseHandle(h)
				return nil, perr
			}
			nh, err = windows.CreateFile(np, dirAccess, shareNoDelete, nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
			if err != nil {
				windows.CloseHandle(h)
				return nil, &os.PathError{Op: "open", Path: next, Err: err}
			}
		}
		windows.CloseHandle(h)
		h, cur = nh, next
	}
	return &Dir{h: h, path: abs}, nil
}

// privateSD is a security descriptor giving full access to the user, SYSTEM and the
// Administrators, inherited by everything below, and nothing to anyone else.
func privateSD() (*windows.SECURITY_DESCRIPTOR, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("reading the current user: %w", err)
	}
	return windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;" + tu.User.Sid.String() + ")(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)")
}

// sharedFolder reports whether every user may add entries to the opened folder h while
// it is not the current user's own: its ACL lets Everyone, Authenticated Users or Users
// add files or folders (or it has no ACL at all).
func sharedFolder(h windows.Handle) bool {
	sd, err := windows.GetSecurityInfo(h, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return true
	}
	if tu, err := windows.GetCurrentProcessToken().GetTokenUser(); err == nil {
		if owner, _, err := sd.Owner(); err == nil && owner != nil && owner.Equals(tu.User.Sid) {
			return false
		}
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return true
	}
	var broad []*windows.SID
	for _, s := range []windows.WELL_KNOWN_SID_TYPE{windows.WinWorldSid, windows.WinAuthenticatedUserSid, windows.WinBuiltinUsersSid} {
		if sid, err := windows.CreateWellKnownSid(s); err == nil {
			broad = append(broad, sid)
		}
	}
	const addMask = fileAddFile | fileAddSubdirectory | windows.GENERIC_WRITE | windows.GENERIC_ALL
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if windows.GetAce(dacl, i, &ace) != nil {
			continue
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 || ace.Mask&addMask == 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		for _, b := range broad {
			if sid.Equals(b) {
				return true
			}
		}
	}
	return false
}

func (d *Dir) linkError(h windows.Handle, p string) error {
	link, err := isLink(h)
	if err != nil {
		windows.CloseHandle(h)
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	if link {
		windows.CloseHandle(h)
		return fmt.Errorf("%s %w", p, ErrLink)
	}
	return nil
}

// Mkdir makes the folder name or opens it when it exists, and returns it opened. A link
// (any name-surrogate reparse point) there is refused, never followed.
func (d *Dir) Mkdir(name string) (*Dir, error) {
	return d.dir(name, windows.FILE_OPEN_IF)
}

// OpenDir opens the existing folder name; a link there is refused.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	return d.dir(name, windows.FILE_OPEN)
}

func (d *Dir) dir(name string, disposition uint32) (*Dir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	p := pathJoin(d.path, name)
	h, err := ntCreate(d.h, name, dirAccess, shareNoDelete, disposition, windows.FILE_DIRECTORY_FILE, nil)
	if err != nil {
		return nil, &os.PathError{Op: "mkdir", Path: p, Err: err}
	}
	if err := d.linkError(h, p); err != nil {
		return nil, err
	}
	return &Dir{h: h, path: p}, nil
}

// Create makes the new file name for writing (and, with read, reading). It never opens
// an existing file or a link: those fail with an error matching fs.ErrExist.
func (d *Dir) Create(name string, read bool) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	access := uint32(windows.FILE_GENERIC_WRITE)
	if read {
		access |= windows.FILE_GENERIC_READ
	}
	p := pathJoin(d.path, name)
	h, err := ntCreate(d.h, name, access, shareNoDelete, windows.FILE_CREATE, windows.FILE_NON_DIRECTORY_FILE, nil)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: p, Err: err}
	}
	return os.NewFile(uintptr(h), p), nil
}

// finalPath is the current path of the opened folder (the handle pins it).
func (d *Dir) finalPath() (string, error) {
	buf := make([]uint16, 512)
	for {
		n, err := windows.GetFinalPathNameByHandle(d.h, &buf[0], uint32(len(buf)), 0)
		if err != nil {
			return "", &os.PathError{Op: "path", Path: d.path, Err: err}
		}
		if int(n) < len(buf) {
			return windows.UTF16ToString(buf[:n]), nil
		}
		buf = make([]uint16, n+1)
	}
}

// Symlink makes the symbolic link name pointing to target, never looking at the target
// (a lookup of a UNC target would contact its server).
func (d *Dir) Symlink(target, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	p := pathJoin(d.path, name)
	fp, err := d.finalPath()
	if err != nil {
		return err
	}
	lp, err := windows.UTF16PtrFromString(pathJoin(fp, name))
	if err != nil {
		return err
	}
	tp, err := windows.UTF16PtrFromString(target)
	if err != nil {
		return err
	}
	err = windows.CreateSymbolicLink(lp, tp, symlinkAllowUnprivileged)
	if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
		// Windows before 10 1703 does not know the flag
		err = windows.CreateSymbolicLink(lp, tp, 0)
	}
	if err != nil {
		return &os.PathError{Op: "symlink", Path: p, Err: err}
	}
	return nil
}

// Link makes name a hard link to oldName in old, by handle (FileLinkInformation).
func (d *Dir) Link(old *Dir, oldName, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := checkName(oldName); err != nil {
		return err
	}
	p := pathJoin(d.path, name)
	h, err := ntCreate(old.h, oldName, windows.FILE_WRITE_ATTRIBUTES, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		windows.FILE_OPEN, windows.FILE_NON_DIRECTORY_FILE, nil)
	if err != nil {
		return &os.PathError{Op: "link", Path: p, Err: err}
	}
	defer windows.CloseHandle(h)
	n16, err := windows.UTF16FromString(name)
	if err != nil {
		return err
	}
	n16 = n16[:len(n16)-1]
	// FILE_LINK_INFORMATION: ReplaceIfExists (padded), RootDirectory, FileNameLength, FileName
	hs := int(unsafe.Sizeof(uintptr(0)))
	buf := make([]byte, 2*hs+4+2*len(n16)+2)
	*(*windows.Handle)(unsafe.Pointer(&buf[hs])) = d.h
	binary.LittleEndian.PutUint32(buf[2*hs:], uint32(2*len(n16)))
	for i, c := range n16 {
		binary.LittleEndian.PutUint16(buf[2*hs+4+2*i:], c)
	}
	var iosb windows.IO_STATUS_BLOCK
	if err := windows.NtSetInformationFile(h, &iosb, &buf[0], uint32(len(buf)), fileLinkInformation); err != nil {
		var st windows.NTStatus
		if errors.As(err, &st) {
			err = st.Errno()
		}
		return &os.PathError{Op: "link", Path: p, Err: err}
	}
	return nil
}

// Mkfifo is not available on Windows.
func (d *Dir) Mkfifo(name string, m Meta) error {
	return errors.New("named pipes are not restored on Windows")
}

// SetFileMeta sets the read-only attribute (from the owner's write bit) and the times of
// f, on its handle. Owners are not restored on Windows.
func (d *Dir) SetFileMeta(f *os.File, name string, m Meta) error {
	h := windows.Handle(f.Fd())
	err := setTimes(h, f.Name(), m)
	if m.Mode&0o200 == 0 {
		err = errors.Join(err, f.Chmod(0o444))
	}
	return err
}

// CreatePerm is Create: permission bits are not kept on Windows (SetFileMeta sets the
// read-only attribute).
func (d *Dir) CreatePerm(name string, read bool, perm uint32) (*File, error) {
	f, err := d.Create(name, read)
	if err != nil {
		return nil, err
	}
	return &File{f}, nil
}

// File is a new file CreatePerm made (on Unix, one held by its descriptor alone).
type File struct{ *os.File }

// SetNewFileMeta is SetFileMeta for a file d.CreatePerm made (owners are not restored on
// Windows: the same).
func (d *Dir) SetNewFileMeta(f *File, name string, m Meta) error {
	return d.SetFileMeta(f.File, name, m)
}

func setTimes(h windows.Handle, p string, m Meta) error {
	at := m.Atime
	if at.IsZero() {
		at = m.Mtime
	}
	a := windows.NsecToFiletime(at.UnixNano())
	w := windows.NsecToFiletime(m.Mtime.UnixNano())
	if err := windows.SetFileTime(h, nil, &a, &w); err != nil {
		return &os.PathError{Op: "chtimes", Path: p, Err: err}
	}
	return nil
}

// SetMeta sets the times of the folder d itself, on its handle.
func (d *Dir) SetMeta(parent *Dir, name string, m Meta) error {
	return setTimes(d.h, d.path, m)
}

// SetLinkMeta sets the times of the symbolic link name itself.
func (d *Dir) SetLinkMeta(name string, m Meta) error {
	h, err := ntCreate(d.h, name, windows.FILE_WRITE_ATTRIBUTES, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		windows.FILE_OPEN, 0, nil)
	if err != nil {
		return &os.PathError{Op: "chtimes", Path: pathJoin(d.path, name), Err: err}
	}
	defer windows.CloseHandle(h)
	return setTimes(h, pathJoin(d.path, name), m)
}

// Space reports the room left on the volume holding d.
func (d *Dir) Space() (Space, error) {
	fp, err := d.finalPath()
	if err != nil {
		return Space{}, err
	}
	pp, err := windows.UTF16PtrFromString(fp + `\`)
	if err != nil {
		return Space{}, err
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(pp, &free, &total, &totalFree); err != nil {
		return Space{}, &os.PathError{Op: "statfs", Path: d.path, Err: err}
	}
	return Space{Bytes: free}, nil
}

// IsRoot is false on Windows: owners are not restored there.
func IsRoot() bool { return false }
