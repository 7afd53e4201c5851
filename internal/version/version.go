package version

import (
	"strconv"
	"strings"
)

// Version is set with -ldflags "-X travelkit/internal/version.Version=...".
var Version = "dev"

// Compare orders two travelkit versions as `git describe --tags` writes them:
// "v1.2.3", "v1.2.3-4-gHASH" (4 commits after v1.2.3), with an optional "-dirty". It
// returns -1, 0 or +1, and ok = false when either is not of that form (a bare commit
// hash, "dev") and the two differ: then nothing says which is newer.
func Compare(a, b string) (c int, ok bool) {
	if a == b {
		return 0, true
	}
	va, oka := parse(a)
	vb, okb := parse(b)
	if !oka || !okb {
		return 0, false
	}
	for i := range va {
		switch {
		case va[i] < vb[i]:
			return -1, true
		case va[i] > vb[i]:
			return 1, true
		}
	}
	return 0, true
}

// parse reads [v]MAJOR.MINOR.PATCH[-N-gHASH][-dirty] as (major, minor, patch, N).
func parse(s string) ([4]int, bool) {
	var v [4]int
	s = strings.TrimSuffix(s, "-dirty")
	s = strings.TrimPrefix(s, "v")
	core, rest, _ := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	if rest != "" {
		n, hash, found := strings.Cut(rest, "-")
		c, err := strconv.Atoi(n)
		if !found || err != nil || c < 0 || !strings.HasPrefix(hash, "g") {
			return v, false
		}
		v[3] = c
	}
	return v, true
}
