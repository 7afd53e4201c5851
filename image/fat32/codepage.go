package fat32

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Names that depend on the code page or on Unicode normalisation.
//
// A short name may hold bytes 0x80-0xFF: characters of the OEM code page of whoever
// wrote it. mtools stores a user's "café.txt" as the short name "CAF\x90.TXT" with the
// lower-case flags and no long name; Linux and Windows use such bytes in the short alias
// of "résumé.pdf". Each OS shows those bytes in its own code page (0x90 is "É" in code
// pages 437 and 850, "ђ" in 855). That alone is not ambiguous: every OS reads the same
// entry, the same clusters, the same bytes; only the name shown differs, and it can never
// be a name travelkit wrote (those are ASCII). So such an entry is accepted (verify
// reports it as an extra file) unless, in some code page, it could show the same name as
// another entry of its folder. That is checked with coarse keys (coarseKeys): upper case,
// every non-ASCII character or OEM byte (and, for double-byte code pages such as 932 or
// 949, an ASCII byte after an OEM byte) a wildcard, runs of wildcards one wildcard, and
// the ASCII letter I a wildcard too, because code pages 850, 857 and 949 hold the dotless
// "ı" whose upper case is I (checked over the code pages Python knows: no other OEM
// character has an ASCII simple case partner). Two entries whose coarse keys meet, one of
// them a code-page name, are refused. The check errs on the side of refusing: it would
// also refuse "É.TXT" next to "I.TXT".
//
// Long names are UTF-16 and mean the same everywhere, but macOS normalises them (a
// precomposed "é" and "e" + combining acute are one name there): foldKey compares names
// in canonical decomposition (NFD), ignoring case.

// maxCodePageNames bounds the code-page-dependent short names checked per folder (each
// gives up to 2^6 coarse keys).
const maxCodePageNames = 1024

// hasOEM reports whether an 11-byte short name holds OEM code page bytes.
func hasOEM(n [dirNameLen]byte) bool {
	for _, c := range n {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// oemShortName checks a short name that holds OEM bytes: apart from them, what shortName
// requires (padding, allowed characters, upper case). It returns the name as code page
// 437 (the default of Linux and of Windows in the US) shows it, with the NT lower-case
// flags applied.
func oemShortName(n [dirNameLen]byte, nt uint8) (string, bool) {
	if n[0] == ' ' {
		return "", false
	}
	pad := false
	for i, c := range n {
		if i == 8 {
			pad = false
		}
		switch {
		case c == ' ':
			pad = true
		case pad:
			return "", false
		case c >= 0x80:
		case !isShortChar(c):
			return "", false
		}
	}
	dec := func(b []byte) string {
		s, err := charmap.CodePage437.NewDecoder().Bytes([]byte(strings.TrimRight(string(b), " ")))
		if err != nil {
			return ""
		}
		return string(s)
	}
	base, ext := dec(n[:8]), dec(n[8:])
	if nt&ntLowerBase != 0 {
		base = strings.ToLower(base)
	}
	if nt&ntLowerExt != 0 {
		ext = strings.ToLower(ext)
	}
	if base == "" {
		return "", false
	}
	if ext == "" {
		return base, true
	}
	return base + "." + ext, true
}

// foldKey maps a name to a key equal for names that are equal ignoring case and Unicode
// normalisation: canonical decomposition, then each rune mapped to the smallest of its
// simple case folding orbit and of its upper and lower case (so "ı" and "İ" meet "I", as
// Windows' upcase table has them). A superset of what Windows, Linux and macOS equate.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	m := r
	for _, x := range []rune{r, unicode.ToUpper(r), unicode.ToLower(r)} {
		m = min(m, x)
		for f := unicode.SimpleFold(x); f != x; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
	}
	return m
}

const wild = '*' // never part of a FAT name

// coarseName is the coarse key of a long name or of an ASCII short name.
func coarseName(s string) string {
	var b []byte
	for _, r := range norm.NFC.String(s) {
		if r < 0x80 {
			b = appendCoarse(b, byte(r))
		} else {
			b = appendCoarse(b, wild)
		}
	}
	return string(b)
}

func appendCoarse(b []byte, c byte) []byte {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	if c == 'I' {
		c = wild
	}
	if c == wild && len(b) > 0 && b[len(b)-1] == wild {
		return b
	}
	return append(b, c)
}

// coarseKeys are the coarse keys of a short name holding OEM bytes: one per way a
// double-byte code page could pair an OEM byte with the ASCII byte after it.
func coarseKeys(n [dirNameLen]byte) []string {
	base := []byte(strings.TrimRight(string(n[:8]), " "))
	ext := []byte(strings.TrimRight(string(n[8:]), " "))
	var out []string
	seen := map[string]bool{}
	for _, b := range coarseParts(base) {
		for _, e := range coarseParts(ext) {
			k := b
			if len(ext) > 0 {
				k = b + "." + e
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// coarseParts returns the coarse forms of one field of a short name.
func coarseParts(f []byte) []string {
	var out []string
	var walk func(i int, acc []byte)
	walk = func(i int, acc []byte) {
		if i == len(f) {
			out = append(out, string(acc))
			return
		}
		c := f[i]
		if c < 0x80 {
			walk(i+1, appendCoarse(acc, c))
			return
		}
		acc = appendCoarse(acc, wild)
		walk(i+1, acc)
		if i+1 < len(f) && f[i+1] < 0x80 {
			walk(i+2, acc) // a double-byte character with an ASCII trail byte
		}
	}
	walk(0, nil)
	return out
}

// oemAliasOf reports whether a short name holding OEM bytes can be the alias an OS made
// for the long name: its ASCII bytes are the long name's (upper case, spaces and dots but
// the last dropped, characters not allowed in 8.3 as '_'), and each run of OEM bytes
// stands for non-ASCII characters of the long name (one or two bytes each: a single- or
// double-byte code page), which may also have become '_' or been dropped. A ~N tail (and
// Windows' four hex digits before it) means the basis was cut.
func oemAliasOf(long string, short [dirNameLen]byte) bool {
	lb, le := oemTokens(long)
	base := []byte(strings.TrimRight(string(short[:8]), " "))
	ext := []byte(strings.TrimRight(string(short[8:]), " "))
	if !matchTokens(le, ext, len(ext) == 3) {
		return false
	}
	if t := lastTilde(base); t > 0 {
		if matchTokens(lb, base[:t], true) {
			return true
		}
		return t > 4 && isHex(string(base[t-4:t])) && matchTokens(lb, base[:t-4], true)
	}
	return matchTokens(lb, base, false)
}

// lastTilde returns the index of a ~digits tail of a short basis, or -1.
func lastTilde(b []byte) int {
	t := strings.LastIndexByte(string(b), '~')
	if t < 1 || t == len(b)-1 {
		return -1
	}
	for _, c := range b[t+1:] {
		if c < '0' || c > '9' {
			return -1
		}
	}
	return t
}

// oemTokens splits a long name into basis and extension tokens: ASCII bytes as an 8.3
// name has them, 0 for a non-ASCII character.
func oemTokens(long string) ([]byte, []byte) {
	u := strings.ToUpper(norm.NFC.String(long))
	base, ext := u, ""
	if i := strings.LastIndexByte(u, '.'); i > 0 {
		base, ext = u[:i], u[i+1:]
	}
	tok := func(s string) []byte {
		var out []byte
		for _, r := range s {
			switch {
			case r == ' ' || r == '.':
			case r < 0x80 && isShortChar(byte(r)):
				out = append(out, byte(r))
			case r < 0x80:
				out = append(out, '_')
			default:
				out = append(out, 0)
			}
		}
		return out
	}
	return tok(base), tok(ext)
}

// matchTokens matches short bytes against tokens (all of them, or a prefix when prefix
// is set). Bounded: at most len(tok)+1 by len(b)+1 states.
func matchTokens(tok, b []byte, prefix bool) bool {
	done := make([]bool, (len(tok)+1)*(len(b)+1))
	var m func(i, j int) bool
	m = func(i, j int) bool {
		k := i*(len(b)+1) + j
		if done[k] {
			return false
		}
		done[k] = true
		if j == len(b) && (i == len(tok) || prefix) {
			return true
		}
		if i == len(tok) {
			return false
		}
		if tok[i] != 0 {
			return j < len(b) && b[j] == tok[i] && m(i+1, j+1)
		}
		// A non-ASCII character: dropped, '_', one OEM byte, or an OEM byte and a trail byte.
		if m(i+1, j) {
			return true
		}
		if j < len(b) && (b[j] == '_' || b[j] >= 0x80) && m(i+1, j+1) {
			return true
		}
		return j+1 < len(b) && b[j] >= 0x80 && m(i+1, j+2)
	}
	return m(0, 0)
}

// codePageNames finds, in one folder, an entry with OEM bytes in its short name that
// some code page could show with the name of another entry. It does nothing in a folder
// without such names.
type codePageNames struct {
	on  bool
	n   int
	all map[string]string // coarse key -> name, of every entry so far
	oem map[string]string // coarse key -> name, of OEM short names so far
}

func newCodePageNames(ents []rawEntry) *codePageNames {
	c := &codePageNames{}
	for _, e := range ents {
		if !e.label && hasOEM([dirNameLen]byte([]byte(e.Short))) {
			c.on = true
			c.all, c.oem = map[string]string{}, map[string]string{}
			break
		}
	}
	return c
}

// add records an entry; when it meets an earlier one it returns that one's name and
// why.
func (c *codePageNames) add(e Entry) (string, string) {
	if !c.on {
		return "", ""
	}
	n11 := [dirNameLen]byte([]byte(e.Short))
	plain := []string{coarseName(e.Name)}
	if s, ok := shortName(n11); ok && !strings.EqualFold(s, e.Name) {
		plain = append(plain, coarseName(s))
	}
	var oem []string
	if hasOEM(n11) {
		if c.n++; c.n > maxCodePageNames {
			return "", "" // the caller reports tooMany
		}
		oem = coarseKeys(n11)
	}
	other, why := "", ""
	for _, k := range plain {
		if o, ok := c.oem[k]; ok && why == "" {
			other, why = o, "its short name holds bytes that each OS shows in its own code page, and in one of them it reads like this name, ignoring case"
		}
	}
	for _, k := range oem {
		if o, ok := c.all[k]; ok && why == "" {
			other, why = o, fmt.Sprintf("its short name %q holds bytes that each OS shows in its own code page, and in one of them it could read like that name, ignoring case", strings.TrimRight(e.Short, " "))
		}
	}
	for _, k := range plain {
		c.all[k] = e.Name
	}
	for _, k := range oem {
		c.all[k] = e.Name
		c.oem[k] = e.Name
	}
	return other, why
}

// tooMany reports whether the folder had more OEM short names than are checked.
func (c *codePageNames) tooMany() bool { return c.n > maxCodePageNames }
