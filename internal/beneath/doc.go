// Package beneath creates files and folders beneath a folder without ever passing through
// a link: the folder a restore writes into, which a snapshot (or another local user) may
// have prepared with links pointing elsewhere.
//
// Every operation is relative to an opened folder handle and takes one name, never a
// path, so no component is resolved twice. A name that is already a symbolic link (on
// Windows, any reparse point: symbolic link, junction, mount point) is refused with
// ErrLink, never followed. Metadata is set on opened handles (fchmod, fchown) or with the
// no-follow form of a call, so a link swapped in at the last moment is not followed
// either.
//
// The folder itself is opened with Open, which refuses a folder that another user could
// have prepared: inside a folder every user can write to (like /tmp), the target must be
// new, and is then created private to the user.
//
// Imports: internal packages only. Today it imports none.
package beneath
