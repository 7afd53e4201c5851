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
func openSource(p string) (sourceFile, error) { return openNoFollow(p, false) }

// openFolder opens a folder the walk found, to list it, the same way: a
// symbolic link, a junction or a file put in its place since is refused with
// NotFolderError, never followed. The walk listed folders through os.Open
// before, which opens them with the same CreateFile flags but this one; the
// listing (File.ReadDir) is unchanged. The check costs the handle's Stat
// (GetFileType and GetFileInformationByHandle, and the reparse tag for a reparse
// point) per folder. A folder whose reparse point os.Lstat counts as a folder
// (a cloud file's placeholder, such as OneDrive's) is opened again as usual, so
// that its listing comes through the cloud filter, and must be the same folder.
func openFolder(p string) (*os.File, error) { return openNoFollow(p, true) }

// openNoFollow opens p itself, not what a reparse point there points to, and
// checks that it is a folder (dir) or a regular file.
func openNoFollow(p string, dir bool) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	reopen, err := checkOpened(p, fi.Mode(), reparseAttrs(fi), dir)
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
	if !os.SameFile(fi, gi) || dir && !gi.IsDir() || !dir && !gi.Mode().IsRegular() {
		g.Close()
		return nil, notKind(p, os.ModeIrregular, dir, nil)
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
