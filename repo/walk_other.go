//go:build !linux

package repo

import (
	"errors"
	"os"
)

// listDir lists folder path sorted by name, each entry with its lstat
// metadata. An entry that vanished in between is left out; one that cannot
// be stat'ed has its error.
func listDir(path string) ([]dirInfo, error) {
	ents, err := readDir(path)
	if ents == nil {
		return nil, err
	}
	out := make([]dirInfo, 0, len(ents))
	for _, e := range ents {
		fi, ierr := e.Info()
		if errors.Is(ierr, os.ErrNotExist) {
			continue
		}
		out = append(out, dirInfo{name: e.Name(), fi: fi, err: ierr})
	}
	return out, err
}

func openSource(p string) (sourceFile, error) { return openRead(p) }
