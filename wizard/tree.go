package wizard

import (
	"context"
	"errors"
	"path"
	"path/filepath"
	"sort"

	"travelkit/repo"
)

// Bounds on the folder tree the "only some folders" page shows: a snapshot of a whole
// home folder has tens of thousands of folders, a page shows a few hundred.
const (
	maxWalkDirs = 20000 // folders read from the snapshot
	maxShown    = 400   // folders on the page
	showDepth   = 4     // levels below the top folder
)

// folder is a folder of the snapshot, as the tree shows it.
type folder struct {
	Path     string // in the snapshot ("/home/amina/Documents"), what restore --include takes
	Name     string
	Children []*folder
	files    int
}

// folderTree is the snapshot's folders below its top folder: the first folder, from the
// root, that holds more than one entry (/home/amina for a backup of /home/amina).
type folderTree struct {
	Top   *folder
	More  int // folders left out by the bounds
	valid map[string]bool
}

var errEnough = errors.New("enough folders")

// loadTree reads the snapshot's folders (repo.Walk, as ls does) within the bounds.
func loadTree(ctx context.Context, r *repo.Repository, sn *repo.Snapshot) (*folderTree, error) {
	root := &folder{Path: "/", Name: "/"}
	byPath := map[string]*folder{"/": root}
	dirs := 0
	err := r.Walk(ctx, *sn.Tree, "/", func(p string, n *repo.Node) error {
		parent := byPath[path.Dir(p)]
		if parent == nil {
			return nil
		}
		if n.Type != "dir" {
			parent.files++
			return nil
		}
		dirs++
		if dirs > maxWalkDirs {
			return errEnough
		}
		f := &folder{Path: p, Name: n.Name}
		parent.Children = append(parent.Children, f)
		byPath[p] = f
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	top := root
	for len(top.Children) == 1 && top.files == 0 {
		top = top.Children[0]
	}
	t := &folderTree{Top: top, valid: map[string]bool{}}
	shown := 0
	var trim func(f *folder, depth int)
	trim = func(f *folder, depth int) {
		sort.Slice(f.Children, func(i, j int) bool { return f.Children[i].Name < f.Children[j].Name })
		var keep []*folder
		for _, c := range f.Children {
			if depth >= showDepth || shown >= maxShown {
				t.More++
				continue
			}
			shown++
			t.valid[c.Path] = true
			keep = append(keep, c)
			trim(c, depth+1)
		}
		f.Children = keep
	}
	trim(top, 0)
	if dirs > maxWalkDirs {
		t.More += dirs - maxWalkDirs
	}
	return t, nil
}

// validPaths keeps the ticked folders that the tree showed (a page cannot name others),
// without those inside another ticked one.
func (t *folderTree) validPaths(ticked []string) []string {
	if t == nil {
		return nil
	}
	set := map[string]bool{}
	for _, p := range ticked {
		if t.valid[p] {
			set[p] = true
		}
	}
	var out []string
	for p := range set {
		inside := false
		for q := path.Dir(p); q != "/" && q != "."; q = path.Dir(q) {
			if set[q] {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// displayPath shows a snapshot path the way this computer writes paths.
func displayPath(p string) string { return filepath.FromSlash(p) }
