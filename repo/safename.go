package repo

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// NameRules says which names a restore target can hold.
type NameRules int

const (
	// POSIXNames: every name but "", ".", ".." and those with '/' or NUL, at
	// most 255 bytes (Linux, BSD).
	POSIXNames NameRules = iota
	// WindowsNames: no control characters, none of <>:"/\|?*, no trailing dot or
	// space, none of the device names Microsoft reserves ("Naming Files, Paths,
	// and Namespaces": CON, PRN, AUX, NUL, COM0-9, LPT0-9, COM and LPT with the
	// superscript digits ¹²³, CONIN$, CONOUT$; with or without an extension),
	// valid UTF-8 (NTFS stores UTF-16), at most 255 UTF-16 units.
	WindowsNames
	// MacNames: valid UTF-8 (APFS and HFS+ refuse other bytes), no '/' or NUL,
	// at most 255 bytes.
	MacNames
)

// NameRulesFor returns the rules of an operating system (GOOS).
func NameRulesFor(goos string) NameRules {
	switch goos {
	case "windows":
		return WindowsNames
	case "darwin", "ios":
		return MacNames
	}
	return POSIXNames
}

// caseInsensitive reports whether an operating system's usual file systems
// take "File" and "file" for one name: NTFS on Windows, APFS as macOS formats
// it by default.
func caseInsensitive(goos string) bool {
	return goos == "windows" || goos == "darwin" || goos == "ios"
}

// maxNameLen is the longest name NTFS (in UTF-16 units), ext4 and APFS (in
// bytes) hold.
const maxNameLen = 255

// windowsReserved holds the device names Windows reserves, upper case.
var windowsReserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"CONIN$": true, "CONOUT$": true}

func init() {
	for _, d := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3"} {
		windowsReserved["COM"+d] = true
		windowsReserved["LPT"+d] = true
	}
}

// isWindowsReserved reports whether Windows takes name for a device: its
// part before the first dot, without trailing spaces, is a reserved name.
func isWindowsReserved(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	return windowsReserved[strings.ToUpper(strings.TrimRight(base, " "))]
}

func escapeBytes(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(b, "%%%02X", s[i])
	}
}

// SafeName maps a file name from a snapshot to one the target can hold.
// Characters the target cannot hold become %XX (their bytes in hex, so "a\nb"
// becomes "a%0Ab" and nothing is silently dropped). On Windows "%" itself
// always becomes %25, so the mapping is reversible and a mapped name never
// meets a name that was already written that way ("a:b" is "a%3Ab", the file
// "a%3Ab" is "a%253Ab"); elsewhere a name that needs mapping has its "%"
// escaped too. A reserved Windows device name has its last character escaped
// (CON is CO%4E). Names longer than the target holds are cut, keeping their
// extension. The name is returned unchanged when the target can hold it.
//
// SafeName works on one name; two names that map to the same one in a folder
// (case only, on a case-insensitive target, or cut at the same place) are
// told apart when restoring, see distinctNames.
func SafeName(name string, rules NameRules) string {
	return cutName(mapName(name, rules), rules, 0)
}

// mapName is SafeName without the cut to the target's longest name.
func mapName(name string, rules NameRules) string {
	bad := func(r rune, size int) bool {
		switch {
		case r == '/' || r == 0:
			return true
		case r == utf8.RuneError && size <= 1:
			return rules != POSIXNames
		case rules == WindowsNames:
			return r < 32 || strings.ContainsRune(`<>:"\|?*%`, r)
		}
		return false
	}
	needs := false
	for i := 0; i < len(name) && !needs; {
		r, n := utf8.DecodeRuneInString(name[i:])
		needs = bad(r, n)
		i += n
	}
	if !needs && rules != WindowsNames {
		// nothing to escape (the loop below would copy name as it is)
		switch name {
		case "", ".", "..":
			return strings.Repeat("_", max(1, len(name)))
		}
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		if bad(r, n) || (needs && r == '%') {
			escapeBytes(&b, name[i:i+n])
		} else {
			b.WriteString(name[i : i+n])
		}
		i += n
	}
	out := b.String()
	if rules == WindowsNames {
		if trimmed := strings.TrimRight(out, ". "); trimmed != out {
			b.Reset()
			b.WriteString(trimmed)
			escapeBytes(&b, out[len(trimmed):])
			out = b.String()
		}
		if isWindowsReserved(out) {
			base, _, _ := strings.Cut(out, ".")
			base = strings.TrimRight(base, " ")
			_, n := utf8.DecodeLastRuneInString(base)
			b.Reset()
			b.WriteString(base[:len(base)-n])
			escapeBytes(&b, base[len(base)-n:])
			b.WriteString(out[len(base):])
			out = b.String()
		}
	}
	switch out {
	case "", ".", "..":
		out = strings.Repeat("_", max(1, len(out)))
	}
	return out
}

// nameLen is a name's length as the target counts it.
func nameLen(s string, rules NameRules) int {
	if rules != WindowsNames {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutName shortens name so that it and reserve more units fit the target,
// keeping its extension (up to 32 units long) and never splitting a character
// or a %XX escape; on Windows it drops dots and spaces left at the end.
func cutName(name string, rules NameRules, reserve int) string {
	limit := maxNameLen - reserve
	if nameLen(name, rules) <= limit {
		return name
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && nameLen(name[i:], rules) <= 32 {
		base, ext = name[:i], name[i:]
	}
	room := limit - nameLen(ext, rules)
	cut, used := 0, 0
	for cut < len(base) {
		step := 1
		if base[cut] == '%' && cut+3 <= len(base) {
			step = 3
		} else {
			_, step = utf8.DecodeRuneInString(base[cut:])
		}
		w := nameLen(base[cut:cut+step], rules)
		if used+w > room {
			break
		}
		used += w
		cut += step
	}
	base = base[:cut]
	if rules == WindowsNames && ext == "" {
		base = strings.TrimRight(base, ". ")
	}
	return base + ext
}

// foldName is the key under which a case-insensitive file system finds a
// name: NTFS compares names upper-cased character by character.
func foldName(s string) string {
	return strings.Map(unicode.ToUpper, s)
}

// distinctNames hands out the names of one restored folder, so that no two
// entries land on one file: a name already taken (on a case-insensitive
// target "file" after "File") gets " (2)", " (3)"... before its extension,
// as Windows Explorer names copies.
type distinctNames struct {
	rules NameRules
	fold  bool
	taken map[string]bool
}

func newDistinctNames(rules NameRules, fold bool) *distinctNames {
	return &distinctNames{rules: rules, fold: fold, taken: map[string]bool{}}
}

func (d *distinctNames) key(s string) string {
	if d.fold {
		return foldName(s)
	}
	return s
}

// claim returns name, or a variant of it no earlier claim in this folder has.
func (d *distinctNames) claim(name string) string {
	if !d.taken[d.key(name)] {
		d.taken[d.key(name)] = true
		return name
	}
	for i := 2; ; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		c := cutName(name, d.rules, nameLen(suffix, d.rules))
		base, ext := c, ""
		if j := strings.LastIndexByte(c, '.'); j > 0 {
			base, ext = c[:j], c[j:]
		}
		cand := base + suffix + ext
		if !d.taken[d.key(cand)] && (d.rules != WindowsNames || !isWindowsReserved(cand)) {
			d.taken[d.key(cand)] = true
			return cand
		}
	}
}
