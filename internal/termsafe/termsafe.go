// Package termsafe makes text that came from a drive or a repository safe to print on a
// terminal. A file name, host name, tag or path read from a kit, a FAT32 tools partition or
// a restic snapshot is chosen by whoever wrote it; printed raw, its escape sequences could
// erase lines, move the cursor, draw a fake "OK" or reorder the rest of the line (Unicode
// bidirectional controls).
//
// Name escapes every character that is not printable (control characters, C1 controls,
// bidirectional and other format characters, line and paragraph separators, spaces other
// than U+0020, invalid UTF-8) in Go's notation: \x1b, \n, \u202e. Printable text, including
// backslashes and every script, is left as it is, so ordinary names and Windows paths read
// unchanged. Text does the same but keeps newlines and tabs, for messages that travelkit
// itself lays out on several lines.
//
// Escape at the last moment, where the text reaches a terminal; --json output keeps the
// original bytes (encoding/json escapes control characters itself).
package termsafe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name returns s with every non-printable character escaped: the form to print any name,
// host, tag or path that came from a drive or a repository.
func Name(s string) string { return escape(s, false) }

// Text is Name for multi-line messages: newlines and tabs are kept, everything else that is
// not printable is escaped.
func Text(s string) string { return escape(s, true) }

// Safe reports whether s prints as itself (Name(s) == s).
func Safe(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || !printable(r) {
			return false
		}
		i += n
	}
	return true
}

func printable(r rune) bool { return r == ' ' || unicode.IsPrint(r) }

func escape(s string, keepLines bool) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		case printable(r), keepLines && (r == '\n' || r == '\t'):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&15])
		case r <= 0xFFFF:
			b.WriteString(`\u`)
			for sh := 12; sh >= 0; sh -= 4 {
				b.WriteByte(hex[r>>sh&15])
			}
		default:
			b.WriteString(`\U`)
			for sh := 28; sh >= 0; sh -= 4 {
				b.WriteByte(hex[r>>sh&15])
			}
		}
		i += n
	}
	return b.String()
}
