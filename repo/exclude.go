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
	patterns   [][]string
	anchored   []bool
	unanchored [][]string // "**" and the pattern, for those not anchored
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
		e.unanchored = append(e.unanchored, append([]string{"**"}, parts...))
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
		if !e.anchored[i] {
			// matching the end of the path is matching it after any number of names
			pat = e.unanchored[i]
		}
		if matchParts(pat, parts) {
			return true
		}
	}
	return false
}

// matchParts matches pattern components against the whole of name components. It
// follows every way "**" can split the names at once, keeping for each place in the
// pattern whether the names read so far can reach it: time len(pat) times len(name),
// where trying each split in turn takes time exponential in the number of "**".
func matchParts(pat, name []string) bool {
	reach := make([]bool, len(pat)+1)
	next := make([]bool, len(pat)+1)
	reach[0] = true
	skipStars(pat, reach)
	for _, n := range name {
		clear(next)
		moved := false
		for i, p := range pat {
			if !reach[i] {
				continue
			}
			if p == "**" {
				next[i] = true // "**" takes this name too
				moved = true
			} else if ok, _ := path.Match(p, n); ok {
				next[i+1] = true
				moved = true
			}
		}
		if !moved {
			return false
		}
		skipStars(pat, next)
		reach, next = next, reach
	}
	return reach[len(pat)]
}

// skipStars marks what follows a reachable "**": it may match no name at all.
func skipStars(pat []string, reach []bool) {
	for i, p := range pat {
		if reach[i] && p == "**" {
			reach[i+1] = true
		}
	}
}
