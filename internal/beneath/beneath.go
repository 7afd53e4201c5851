package beneath

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// ErrLink is wrapped by errors about a name that is a link.
var ErrLink = errors.New("is a link; nothing is written through links")

// ErrPrepared is wrapped by Open's refusal of a target another user may have prepared.
var ErrPrepared = errors.New("another user could have prepared it")

// checkName refuses anything but one plain component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) ||
		(runtime.GOOS == "windows" && strings.ContainsAny(name, `\:`)) {
		return fmt.Errorf("%q is not a single file name", name)
	}
	return nil
}

// Meta is what SetMeta restores of an entry.
type Meta struct {
	// Mode holds the permission bits (and setuid, setgid, sticky when the caller keeps them).
	Mode uint32
	// Chown sets UID and GID too (the caller decides: usually only when running as root).
	Chown    bool
	UID, GID int
	Atime    time.Time
	Mtime    time.Time
}

// Space is what the file system holding a folder has room for.
type Space struct {
	Bytes uint64 // free to this user
	Files uint64 // free inodes; 0 when the file system has no fixed number
	// FilesKnown says whether Files means anything.
	FilesKnown bool
}

func pathJoin(dir, name string) string {
	if strings.HasSuffix(dir, string(osSeparator)) {
		return dir + name
	}
	return dir + string(osSeparator) + name
}
