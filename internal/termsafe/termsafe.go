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
