package repo

import (
	"path"
	"path/filepath"
	"strings"
)

// Patterns are restic path patterns: what a backup leaves out (--exclude) and what a
// restore selects (--include). A pattern without a slash matches a name at any depth; a
// pattern starting with a slash is anchored at the root; other patterns match the end of
// a path; "*" and "?" stay inside one name and "**" matches any number of names.
type Patterns struct {
	patterns [][]string
	anchored []bool
}

// CompilePatterns compiles patterns; empty lines and lines starting with # are ignored.
func CompilePatterns(patterns []string) (*Patterns, error) {
	e := &Patterns{}
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

// Match reports whether the absolute path p matches a pattern. No patterns match nothing.
func (e *Patterns) Match(p string) bool {
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
