package repo

import "os"

// NotRegularError is the error of a file that the walk listed as a regular file
// and that was something else when it was opened to be read: a named pipe, a
// device, a folder, a symbolic link or (Windows) a junction put in its place in
// between. It is not read (opening a named pipe would keep the backup waiting
// for a writer, a link's target may lie outside what is backed up) and is left
// out of the snapshot, warned as the file's error; the backup goes on.
type NotRegularError struct {
	Mode os.FileMode // what the open found (os.ModeIrregular: a reparse point other than a symlink)
	Err  error       // the open's own error when it refused the file (ELOOP for a symlink), or nil
}

func (e *NotRegularError) Error() string {
	return "was a regular file when its folder was listed and is " + string(KindOf(e.Mode)) +
		" now: not read, not in this snapshot"
}

func (e *NotRegularError) Unwrap() error { return e.Err }

// NotFolderError is the error of a folder that the walk found (listed in its
// parent folder, or a folder the person named) and that was something else
// when it was opened to be listed: a symbolic link, (Windows) a junction, a
// file put in its place in between. It is not followed (a link's target may lie
// outside what is backed up): the folder is kept empty in the snapshot, warned
// as the folder's error; the backup goes on.
type NotFolderError struct {
	Mode os.FileMode // what the open found (os.ModeIrregular: a reparse point other than a symlink)
	Err  error       // the open's own error when it refused the folder (ELOOP for a symlink), or nil
}

func (e *NotFolderError) Error() string {
	return "was a folder when the backup found it and is " + string(KindOf(e.Mode)) +
		" now: not followed, kept empty in this snapshot"
}

func (e *NotFolderError) Unwrap() error { return e.Err }

// notKind is the error of p opened as a folder (dir) or a regular file and
// found to be of mode m, with the open's own error err (or nil).
func notKind(p string, m os.FileMode, dir bool, err error) error {
	if dir {
		return &os.PathError{Op: "open", Path: p, Err: &NotFolderError{Mode: m, Err: err}}
	}
	return &os.PathError{Op: "open", Path: p, Err: &NotRegularError{Mode: m, Err: err}}
}

// FileKind is what a file is, as NotRegularError and NotFolderError name it:
// the CLI finds its words in the person's language by it.
type FileKind string

// The kinds of file KindOf tells apart.
const (
	KindFIFO         FileKind = "a named pipe (FIFO)"
	KindCharDevice   FileKind = "a character device"
	KindBlockDevice  FileKind = "a block device"
	KindSocket       FileKind = "a socket"
	KindSymlink      FileKind = "a symbolic link"
	KindFolder       FileKind = "a folder"
	KindReparsePoint FileKind = "a reparse point (a junction, or a link of another kind)"
	KindFile         FileKind = "a file"
)

// KindOf is what a file of mode m is; its English words are the kind itself.
func KindOf(m os.FileMode) FileKind {
	switch {
	case m&os.ModeNamedPipe != 0:
		return KindFIFO
	case m&os.ModeCharDevice != 0:
		return KindCharDevice
	case m&os.ModeDevice != 0:
		return KindBlockDevice
	case m&os.ModeSocket != 0:
		return KindSocket
	case m&os.ModeSymlink != 0:
		return KindSymlink
	case m.IsDir():
		return KindFolder
	case m&os.ModeIrregular != 0:
		return KindReparsePoint
	}
	return KindFile
}

// openRefused is the error of an open of p without following a link, as a
// folder (dir: O_DIRECTORY) or a regular file, that failed with err:
// NotFolderError when p is not a folder now, NotRegularError when it is a
// symbolic link (the flags' refusals: ELOOP on Linux, macOS and OpenBSD, EMLINK
// on FreeBSD, EFTYPE on NetBSD for a link; ENOTDIR for what is not a folder),
// else err unchanged. The Lstat only names what is there: the open refused it.
func openRefused(p string, err error, dir bool) error {
	if fi, lerr := os.Lstat(p); lerr == nil && (dir && !fi.IsDir() || !dir && fi.Mode()&os.ModeSymlink != 0) {
		return notKind(p, fi.Mode(), dir, err)
	}
	return &os.PathError{Op: "open", Path: p, Err: err}
}

// checkOpened decides on a file p opened itself (on Windows: not the target of
// a reparse point) of mode m and Windows file attributes attrs (0 elsewhere),
// to be read as a folder (dir) or a regular file: NotFolderError or
// NotRegularError when it is not of that kind; reopen when it is a reparse
// point that os.Lstat counts as that kind (a deduplicated file, a cloud
// file's placeholder folder (OneDrive): read through a handle opened as usual,
// so that the file system's filter gives the data or the listing).
func checkOpened(p string, m os.FileMode, attrs uint32, dir bool) (reopen bool, err error) {
	if dir && !m.IsDir() || !dir && !m.IsRegular() {
		return false, notKind(p, m, dir, nil)
	}
	return attrs&fileAttributeReparsePoint != 0, nil
}

// fileAttributeReparsePoint is Windows' FILE_ATTRIBUTE_REPARSE_POINT.
const fileAttributeReparsePoint = 0x400
