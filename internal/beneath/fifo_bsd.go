//go:build unix && !linux

package beneath

import "errors"

// mkfifoat has no handle-relative form here (x/sys/unix has no mkfifoat for these
// systems), and a path would be resolved again: named pipes are not restored.
func mkfifoat(dirfd int, name string, mode uint32) error {
	return errors.New("named pipes are not restored on this system")
}
