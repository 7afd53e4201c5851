package repo

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// NameRules says which names a restore target can hold.
type NameRules int

const (
	// POSIXNames: every name but "", ".", ".." and those with '/' or NUL (Linux, BSD).
	POSIXNames NameRules = iota
	// WindowsNames: no control characters, none of <>:"/\|?*, no trailing dot or
	// space, no reserved device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or
	// without an extension), valid UTF-8 (NTFS stores UTF-16).
	WindowsNames
	// MacNames: valid UTF-8 (APFS and HFS+ refuse other bytes), no '/' or NUL.
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

var windowsReserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true}

func init() {
	for i := 1; i <= 9; i++ {
		windowsReserved[fmt.Sprintf("COM%d", i)] = true
		windowsReserved[fmt.Sprintf("LPT%d", i)] = true
	}
}

// SafeName maps a file name from a snapshot to one the target can hold. Characters the
// target cannot hold become %XX (their bytes in hex, so "a\nb" becomes "a%0Ab" and
// nothing is silently dropped); a reserved Windows name gets a trailing "_". The name is
// returned unchanged when the target can hold it.
func SafeName(name string, rules NameRules) string {
	var b strings.Builder
	esc := func(s string) {
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
	}
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		c := name[i : i+n]
		bad := false
		switch {
		case r == '/' || r == 0:
			bad = true
		case r == utf8.RuneError && n <= 1:
			bad = rules != POSIXNames
		case rules == WindowsNames:
			bad = r < 32 || strings.ContainsRune(`<>:"\|?*`, r)
		}
		if bad {
			esc(c)
		} else {
			b.WriteString(c)
		}
		i += n
	}
	out := b.String()
	if rules == WindowsNames {
		if trimmed := strings.TrimRight(out, ". "); trimmed != out {
			tail := out[len(trimmed):]
			var t strings.Builder
			for i := 0; i < len(tail); i++ {
				fmt.Fprintf(&t, "%%%02X", tail[i])
			}
			out = trimmed + t.String()
		}
		base, _, _ := strings.Cut(out, ".")
		if windowsReserved[strings.ToUpper(strings.TrimRight(base, " "))] {
			out = base + "_" + out[len(base):]
		}
	}
	switch out {
	case "", ".", "..":
		out = strings.Repeat("_", max(1, len(out)))
	}
	return out
}
