//go:build !linux

package repo

import (
	"errors"
	"os"
	"sort"
)

// listDir lists folder path sorted by name, each entry with its lstat
// metadata. An entry that vanished in between is left out; one that cannot
// be stat'ed has its error. The folder is opened without following a link
// (openFolder): one put in its place since the walk found the folder is
// refused (NotFolderError).
func listDir(path string) ([]dirInfo, error) {
	f, err := openFolder(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if ents == nil {
		return nil, err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
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
