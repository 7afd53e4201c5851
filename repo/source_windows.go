package repo

import (
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// openSource opens a file the walk found regular, to back it up, and refuses
// anything else put in its place since (NotRegularError; the backup goes on).
// The file is opened itself, not what it points to (FILE_FLAG_OPEN_REPARSE_POINT:
// os.Open would follow a symbolic link or a junction, and store its target,
// perhaps outside what is backed up, under the file's name; os.OpenFile passes
// the flag on to CreateFile, with FILE_FLAG_BACKUP_SEMANTICS as for any
// read-only open, so a folder opens too and is refused here). The handle's
// metadata (GetFileInformationByHandle, and the reparse tag) then gives its
// kind as os.Lstat would: a symbolic link, a junction or another reparse point
// the walk does not read, a folder, are refused.
//
// A file of a reparse point that os.Lstat counts as regular (Windows Server's
// Data Deduplication, IO_REPARSE_TAG_DEDUP) is opened again without the flag:
// opened as a reparse point, its reads would give the stub, not the data the
// deduplication filter puts back. The second handle must be the same file
// (volume and file index) as the first, or the file was swapped again.
func openSource(p string) (sourceFile, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	reopen, err := checkOpened(p, fi.Mode(), reparseAttrs(fi))
	if err != nil || !reopen {
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	g, err := os.Open(p)
	if err != nil {
		f.Close()
		return nil, err
	}
	gi, err := g.Stat()
	f.Close()
	if err != nil {
		g.Close()
		return nil, err
	}
	if !os.SameFile(fi, gi) || !gi.Mode().IsRegular() {
		g.Close()
		return nil, &os.PathError{Op: "open", Path: p, Err: &NotRegularError{Mode: os.ModeIrregular}}
	}
	return g, nil
}

// reparseAttrs is the file attributes in metadata from os.File.Stat.
func reparseAttrs(fi os.FileInfo) uint32 {
	if d, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok {
		return d.FileAttributes
	}
	return 0
}
