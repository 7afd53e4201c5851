package repo

import (
	"path"
	"path/filepath"
	"strings"
)

// Excluder decides which paths a backup leaves out. Patterns follow restic:
// a pattern without a slash matches a name at any depth; a pattern starting
// with a slash is anchored at the root; other patterns match the end of a
// path; "*" and "?" stay inside one name and "**" matches any number of names.
type Excluder struct {
	patterns [][]string
	anchored []bool
}

// NewExcluder compiles patterns; empty lines and lines starting with # are ignored.
func NewExcluder(patterns []string) (*Excluder, error) {
	e := &Excluder{}
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		p = filepath.ToSlash(p)
		if _, err := path.Match(strings.ReplaceAll(p, "**", "*"), ""); err != nil {
			return nil, err
		}
		anchored := strings.HasPrefix(p, "/")
		parts := strings.Split(strings.Trim(p, "/"), "/")
		e.patterns = append(e.patterns, parts)
		e.anchored = append(e.anchored, anchored)
	}
	return e, nil
}

// Excluded reports whether the absolute path p is excluded.
func (e *Excluder) Excluded(p string) bool {
	if e == nil || len(e.patterns) == 0 {
		return false
	}
	parts := strings.Split(strings.Trim(filepath.ToSlash(p), "/"), "/")
	for i, pat := range e.patterns {
		if e.anchored[i] {
			if matchParts(pat, parts) {
				return true
			}
			continue
		}
		for start := 0; start < len(parts); start++ {
			if matchParts(pat, parts[start:]) {
				return true
			}
		}
	}
	return false
}

// matchParts matches pattern components against the whole of name components.
func matchParts(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if matchParts(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], name[0])
	return ok && matchParts(pat[1:], name[1:])
}
