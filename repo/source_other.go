//go:build !(linux || darwin || freebsd || netbsd || openbsd || windows)

package repo

import "os"

// openSource opens a file to back it up. These systems have no check of their
// own at the open: readFile refuses a file that is not regular by its Stat, but
// a symbolic link put in its place is followed and a named pipe may block.
func openSource(p string) (sourceFile, error) { return os.Open(p) }

// openFolder opens a folder to list it. As openSource, no check: a symbolic
// link put in its place is followed.
func openFolder(p string) (*os.File, error) { return os.Open(p) }
