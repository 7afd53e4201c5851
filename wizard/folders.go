package wizard

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// defaultDest is Restored in the home folder, or Restored 2, 3... when that already holds
// files (a restore never overwrites; an empty folder gets everything).
func defaultDest(home string) string {
	if home == "" {
		home = "."
	}
	base := filepath.Join(home, "Restored")
	for i := 1; i < 100; i++ {
		p := base
		if i > 1 {
			p = fmt.Sprintf("%s %d", base, i)
		}
		if emptyOrMissing(p) {
			return p
		}
	}
	return base
}

func emptyOrMissing(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return os.IsNotExist(err)
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

// maxListed bounds the subfolders the where page lists.
const maxListed = 200

// place is a folder offered on the where page.
type place struct {
	Name, Path string
}

// browseTo lists the subfolders of dir for the where page. Caller holds mu.
func (st *state) browseTo(dir string) {
	dir = strings.TrimSpace(dir)
	if dir == "" {
		dir = st.s.o.Home
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(st.s.o.Home, dir)
	}
	dir = filepath.Clean(dir)
	// the nearest folder that exists
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	st.browse = dir
	st.browseOK = true
}

// subfolders lists the folders in dir (not hidden ones), sorted.
func subfolders(dir string) []place {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []place
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "$") {
			continue
		}
		out = append(out, place{Name: e.Name(), Path: filepath.Join(dir, e.Name())})
		if len(out) == maxListed {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// shortcuts are the places offered first: the home folder, its Desktop and Documents,
// and the other drives (Windows letters, /Volumes on macOS, /media and /mnt on Linux).
func shortcuts(home string) []place {
	var out []place
	add := func(name, p string) {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			out = append(out, place{Name: name, Path: p})
		}
	}
	if home != "" {
		add(home, home)
		add(filepath.Join(home, "Desktop"), filepath.Join(home, "Desktop"))
		add(filepath.Join(home, "Documents"), filepath.Join(home, "Documents"))
	}
	switch runtime.GOOS {
	case "windows":
		for c := 'C'; c <= 'Z'; c++ {
			add(string(c)+`:\`, string(c)+`:\`)
		}
	case "darwin":
		for _, p := range subfolders("/Volumes") {
			add(p.Path, p.Path)
		}
	default:
		for _, base := range []string{"/media", "/mnt", "/run/media"} {
			for _, p := range subfolders(base) {
				add(p.Path, p.Path)
				for _, q := range subfolders(p.Path) {
					add(q.Path, q.Path)
				}
			}
		}
	}
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}
