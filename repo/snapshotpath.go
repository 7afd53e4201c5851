package repo

import (
	"os"
	"path"
	"path/filepath"
	"strings"
)

// pathStep is one name on the way from a snapshot's root to a backed-up path,
// with the file or folder on this system that it stands for.
type pathStep struct {
	name   string
	osPath string
}

// pathSteps splits an absolute path of this system into the names it has in
// a snapshot, the way restic's archiver does (internal/archiver/tree.go,
// pathComponents): the path's own names, led on Windows by its volume, where
// a drive "C:" becomes a folder "C" whose metadata comes from C:\, and a UNC
// volume (\\server\share) keeps its name. So restic for Windows and travelkit
// for Windows put C:\Users\amina at /C/Users/amina, find each other's
// snapshots as parents and share their data.
func pathSteps(p string) []pathStep {
	vol := filepath.VolumeName(p)
	p = filepath.Clean(p)
	var steps []pathStep
	for {
		dir, file := filepath.Dir(p), filepath.Base(p)
		if p == dir {
			break
		}
		steps = append(steps, pathStep{name: file, osPath: p})
		p = dir
	}
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	if vol != "" {
		name := vol
		if len(vol) == 2 && vol[1] == ':' {
			name = vol[:1]
		}
		steps = append([]pathStep{{name: name, osPath: vol + string(filepath.Separator)}}, steps...)
	}
	return steps
}

// SnapshotPath returns where an absolute path of this system is found in a
// snapshot made here: /home/amina on Linux and macOS, /C/Users/amina for
// C:\Users\amina on Windows. A path already in a snapshot's form (/C/Users
// typed on Windows, or any path starting with a slash) stays as it is.
func SnapshotPath(p string) string {
	if filepath.VolumeName(p) == "" {
		return path.Clean("/" + filepath.ToSlash(p))
	}
	names := make([]string, 0, 8)
	for _, s := range pathSteps(p) {
		names = append(names, s.name)
	}
	return "/" + strings.Join(names, "/")
}

// namedInfo gives a file's metadata another name: a volume's root (C:\) is
// called "C" in a snapshot.
type namedInfo struct {
	os.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }
