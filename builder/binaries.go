package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Binary is a travelkit executable for one platform, found on the local disk.
type Binary struct {
	Platform string // "linux/amd64"
	Path     string
	Size     int64
}

// candidates lists where the binary for a platform may be, in a folder that is `make dist`
// output (travelkit-linux-amd64), a kit's bin/ folder (linux-amd64/travelkit), a kit's
// root (bin/linux-amd64/travelkit), or one platform folder of a kit's bin/ (the folder of
// a travelkit running from a kit: its siblings hold the other platforms).
func candidates(dir, platform string) []string {
	goos, arch, _ := strings.Cut(platform, "/")
	ext := ""
	if goos == "windows" {
		ext = ".exe"
	}
	pd := goos + "-" + arch
	c := []string{
		filepath.Join(dir, "travelkit-"+pd+ext),
		filepath.Join(dir, pd, "travelkit"+ext),
		filepath.Join(dir, "bin", pd, "travelkit"+ext),
		filepath.Join(dir, "..", pd, "travelkit"+ext),
	}
	return c
}

// FindBinaries finds the binary of every platform. dirs are searched in order; the host
// platform falls back to the running executable itself.
func FindBinaries(platforms []string, dirs []string) ([]Binary, error) {
	var out []Binary
	var missing []string
	self, _ := os.Executable()
	host := runtime.GOOS + "/" + runtime.GOARCH
	for _, p := range platforms {
		found := false
		for _, d := range dirs {
			if d == "" {
				continue
			}
			for _, c := range candidates(d, p) {
				st, err := os.Stat(c)
				if err == nil && st.Mode().IsRegular() {
					out = append(out, Binary{Platform: p, Path: c, Size: st.Size()})
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found && p == host && self != "" && !strings.HasSuffix(self, ".test") {
			if st, err := os.Stat(self); err == nil {
				out = append(out, Binary{Platform: p, Path: self, Size: st.Size()})
				found = true
			}
		}
		if !found {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no travelkit binary for %s in %s: run `make dist` (it writes dist/travelkit-<os>-<arch>), point --binaries at that folder, or drop the platform from [tools] platforms",
			strings.Join(missing, ", "), strings.Join(nonEmpty(dirs), ", "))
	}
	return out, nil
}

func nonEmpty(v []string) []string {
	var out []string
	for _, s := range v {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// DefaultBinaryDirs is where binaries are looked for without --binaries: the folder of the
// running executable, then ./dist.
func DefaultBinaryDirs() []string {
	var dirs []string
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		dirs = append(dirs, filepath.Dir(self))
	}
	return append(dirs, "dist")
}
