package i18n

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// glossaryTable is the table of each messages/<lang>.toml that holds its glossary.
const glossaryTable = "glossary"

// Term is one thing the person meets (the passphrase, the recovery key, ...) in one
// language: the forms of its one chosen word, and the rival words it must not be called.
type Term struct {
	// Forms are the chosen word as a sentence may need it (plural, cases, attached
	// forms). A form counts where it starts a word (Latin and Cyrillic: no letter just
	// before it; Arabic script: any, since prefixes attach) and may go on into a
	// longer word (an ending, an attached pronoun). In en.toml, Forms are the English
	// words whose use in a message asks for the term in its translations.
	Forms []string `toml:"forms"`
	// Avoid are rival words for the same thing, wrong anywhere in this language.
	Avoid []string `toml:"avoid"`
	// Not (en.toml only) are English phrases that contain a form but name another thing
	// ("header backup" is not a backup of the person's files).
	Not []string `toml:"not"`
	// Skip (en.toml only) are tables of the catalogue the term is not checked in ("help":
	// --help speaks of any disk a staffer writes to, not of the person's kit drive).
	Skip []string `toml:"skip"`
}

var glossaries = sync.OnceValues(func() (map[string]map[string]Term, error) {
	out := map[string]map[string]Term{}
	for _, l := range Languages() {
		name := "messages/" + l + ".toml"
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var f struct {
			Glossary map[string]Term `toml:"glossary"`
		}
		if _, err := toml.Decode(string(b), &f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for id, t := range f.Glossary {
			for i := range t.Forms {
				t.Forms[i] = fold(t.Forms[i])
			}
			for i := range t.Avoid {
				t.Avoid[i] = fold(t.Avoid[i])
			}
			for i := range t.Not {
				t.Not[i] = strings.ToLower(t.Not[i])
			}
			f.Glossary[id] = t
		}
		out[l] = f.Glossary
	}
	return out, nil
})

// Glossary returns lang's glossary: term id ("passphrase", "recovery_key") -> Term.
func Glossary(lang string) (map[string]Term, error) {
	g, err := glossaries()
	if err != nil {
		return nil, err
	}
	return g[lang], nil
}

// GlossaryIssues checks one translated message against the glossary: for each term whose
// English word the English text uses, the translation must use one of lang's forms of it;
// and it must use none of lang's rival words. It returns one line per problem, starting
// with the term's id and a colon. Tests of
// texts outside the catalogue (the RESTORE pages) call it too.
func GlossaryIssues(lang, english, translated string) ([]string, error) {
	g, err := glossaries()
	if err != nil {
		return nil, err
	}
	en, tr := g["en"], g[lang]
	low := fold(translated)
	var out []string
	ids := make([]string, 0, len(en))
	for id := range en {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t, ok := tr[id]
		if !ok {
			out = append(out, fmt.Sprintf("%s: %s.toml has no [glossary.%s]", id, lang, id))
			continue
		}
		for _, a := range t.Avoid {
			if wordAt(low, a) {
				out = append(out, fmt.Sprintf("%s: says %q, a rival word: say %q", id, a, first(t.Forms)))
			}
		}
		if lang == "en" || !englishUses(english, en[id]) {
			continue
		}
		found := false
		for _, f := range t.Forms {
			if wordAt(low, f) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("%s: the English names it, this uses none of %q", id, t.Forms))
		}
	}
	return out, nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// englishUses reports whether text uses one of the English forms as a word of prose: not
// inside a flag, file or command name (--passphrase-file, recovery-key.txt), nor in
// capitals (a value name: --target KIT).
func englishUses(text string, t Term) bool {
	text = strings.Join(strings.Fields(text), " ")
	text = commandRE.ReplaceAllStringFunc(text, func(c string) string { return strings.Repeat("#", len(c)) })
	low := strings.ToLower(text)
	for _, n := range t.Not {
		low = strings.ReplaceAll(low, n, strings.Repeat("#", len(n)))
	}
	for _, f := range t.Forms {
		for i := 0; ; {
			j := strings.Index(low[i:], f)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(f)
			i = start + 1
			if orig := text[start:end]; len(text) == len(low) && orig == strings.ToUpper(orig) {
				continue // a value name or label (--target KIT, TRAVELKIT), not prose
			}
			if r, _ := utf8.DecodeLastRuneInString(low[:start]); start > 0 && (isWordRune(r) || strings.ContainsRune("-_./[:@{", r)) {
				continue
			}
			if end < len(low) {
				r, n := utf8.DecodeRuneInString(low[end:])
				if isWordRune(r) || strings.ContainsRune("-_]@}", r) {
					continue
				}
				if r == '.' || r == '/' {
					if r2, _ := utf8.DecodeRuneInString(low[end+n:]); end+n < len(low) && isWordRune(r2) {
						continue
					}
				}
			}
			return true
		}
	}
	return false
}

// fold makes a text comparable with a glossary form: lower case, Arabic-script vowel
// marks and the Persian ezafe mark (ـَ ـّ ـٔ) dropped, a zero-width non-joiner (Persian's
// half-space, رمزگذاری‌شده) and a typographic apostrophe read as their plain forms, and
// a line break or a run of spaces as one space.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x064B && r <= 0x0655, r == 0x0670:
			return -1
		case r == 0x200C:
			return ' '
		case r == '’':
			return '\''
		}
		return r
	}, strings.Join(strings.Fields(strings.ToLower(s)), " "))
}

// commandRE finds a travelkit command named in a text ("travelkit keys passphrase",
// "travelkit backup"): command words are not prose.
var commandRE = regexp.MustCompile(`\btravelkit( (keys|luks|tpm|remote|files|profile|completion|help))?( [a-z][a-z-]*)?`)

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordAt reports whether form occurs in low where a word starts: for Latin and Cyrillic no
// letter just before it; in Arabic script a prefix may attach (و، ب، ل، ال). Any ending may
// follow.
func wordAt(low, form string) bool {
	for i := 0; ; {
		j := strings.Index(low[i:], form)
		if j < 0 {
			return false
		}
		start := i + j
		i = start + 1
		if start == 0 {
			return true
		}
		r, _ := utf8.DecodeLastRuneInString(low[:start])
		if !isWordRune(r) || unicode.Is(unicode.Arabic, r) {
			return true
		}
	}
}
