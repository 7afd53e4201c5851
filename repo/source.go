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
	return "was a regular file when its folder was listed and is " + fileKind(e.Mode) +
		" now: not read, not in this snapshot"
}

func (e *NotRegularError) Unwrap() error { return e.Err }

// fileKind names what a file of mode m is, for NotRegularError.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a folder"
	case m&os.ModeIrregular != 0:
		return "a reparse point (a junction, or a link of another kind)"
	}
	return "something else"
}

// symlinkRefused is the error of an open with O_NOFOLLOW that failed with err:
// NotRegularError when p is a symbolic link (the flag's refusal: ELOOP on Linux,
// macOS and OpenBSD, EMLINK on FreeBSD, EFTYPE on NetBSD), else err unchanged.
func symlinkRefused(p string, err error) error {
	if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
		return &os.PathError{Op: "open", Path: p, Err: &NotRegularError{Mode: os.ModeSymlink, Err: err}}
	}
	return &os.PathError{Op: "open", Path: p, Err: err}
}

// checkOpened decides on a file p opened itself (on Windows: not the target of
// a reparse point) of mode m and Windows file attributes attrs (0 elsewhere):
// NotRegularError when it is not a regular file; reopen when it is a reparse
// point that os.Lstat counts as a regular file (a deduplicated file: its data
// is read through a handle opened as usual).
func checkOpened(p string, m os.FileMode, attrs uint32) (reopen bool, err error) {
	if !m.IsRegular() {
		return false, &os.PathError{Op: "open", Path: p, Err: &NotRegularError{Mode: m}}
	}
	return attrs&fileAttributeReparsePoint != 0, nil
}

// fileAttributeReparsePoint is Windows' FILE_ATTRIBUTE_REPARSE_POINT.
const fileAttributeReparsePoint = 0x400
