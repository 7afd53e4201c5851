package i18n

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

//go:embed messages/*.toml
var files embed.FS

// entry is one message in one language: a plain text, or forms by plural category.
type entry struct {
	Text  string
	Forms map[string]string // zero, one, two, few, many, other
	Arg   int               // the argument that chooses the form (1-based)
}

// pluralCategories are CLDR's plural categories, in CLDR's order.
var pluralCategories = []string{"zero", "one", "two", "few", "many", "other"}

func isCategory(k string) bool {
	for _, c := range pluralCategories {
		if k == c {
			return true
		}
	}
	return false
}

// parseFile reads one language file into key -> entry. Nested tables make dotted keys
// ([wizard.unlock] title -> "wizard.unlock.title"); a table of plural forms is one entry.
func parseFile(name string, b []byte) (map[string]entry, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(b), &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	delete(raw, glossaryTable) // the glossary (glossary.go) names words; it holds no message
	out := map[string]entry{}
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for k, v := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			switch v := v.(type) {
			case string:
				if isCategory(k) || k == "arg" {
					return fmt.Errorf("%s: %s: %q is a plural form name; a table of forms needs \"other\" and nothing but forms", name, key, k)
				}
				out[key] = entry{Text: v}
			case map[string]any:
				if forms, ok, err := pluralEntry(v); err != nil {
					return fmt.Errorf("%s: %s: %w", name, key, err)
				} else if ok {
					out[key] = forms
					continue
				}
				if err := walk(key, v); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%s: %s: a message must be text (in quotes), not %T", name, key, v)
			}
		}
		return nil
	}
	if err := walk("", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// pluralEntry recognises a table of plural forms: only category names (and arg), with other.
func pluralEntry(m map[string]any) (entry, bool, error) {
	if _, ok := m["other"]; !ok {
		return entry{}, false, nil
	}
	e := entry{Forms: map[string]string{}, Arg: 1}
	for k, v := range m {
		switch {
		case k == "arg":
			n, ok := v.(int64)
			if !ok || n < 1 || n > 9 {
				return entry{}, false, fmt.Errorf("arg must be a number from 1 to 9")
			}
			e.Arg = int(n)
		case isCategory(k):
			s, ok := v.(string)
			if !ok {
				return entry{}, false, fmt.Errorf("form %q must be text", k)
			}
			e.Forms[k] = s
		default:
			return entry{}, false, fmt.Errorf("%q is not a plural form (%s)", k, strings.Join(pluralCategories, ", "))
		}
	}
	return e, true, nil
}

// langs holds each language's part of the catalogue, read from its file on first use
// (a command reads en.toml and its person's language only: parsing all six costs every
// process megabytes before it does anything).
var langs map[string]func() (*langCatalogue, error)

func init() {
	langs = map[string]func() (*langCatalogue, error){}
	for _, l := range Languages() {
		langs[l] = sync.OnceValues(func() (*langCatalogue, error) { return loadLang(l) })
	}
}

// langCatalogue is one language's messages.
type langCatalogue struct {
	entries map[string]entry // as in the file
	builder *catalog.Builder // every key of en.toml in this language (English where missing)
	// dollar holds the texts with "${" (a shell's, in --help), which the catalogue would
	// read as its own variables: key -> text, formatted by fmt instead
	dollar map[string]string
}

// langCat is l's part of the catalogue (l one of Languages), read once.
func langCat(l string) (*langCatalogue, error) {
	get, ok := langs[l]
	if !ok {
		return nil, fmt.Errorf("no catalogue for language %q", l)
	}
	return get()
}

// parseLang reads messages/<l>.toml.
func parseLang(l string) (map[string]entry, error) {
	name := "messages/" + l + ".toml"
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseFile(name, b)
}

// loadLang reads l's file and builds its messages over en.toml's keys.
func loadLang(l string) (*langCatalogue, error) {
	entries, err := parseLang(l)
	if err != nil {
		return nil, err
	}
	en := entries
	if l != "en" {
		c, err := langCat("en")
		if err != nil {
			return nil, err
		}
		en = c.entries
	}
	keys := make([]string, 0, len(en))
	for k := range en {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := &langCatalogue{entries: entries, dollar: map[string]string{}, builder: catalog.NewBuilder(catalog.Fallback(language.English))}
	tag := language.MustParse(l)
	for _, k := range keys {
		e, ok := entries[k]
		if !ok {
			e = en[k] // TestCatalogue keeps this from happening (but for pendingTranslation)
		}
		if e.Forms == nil && strings.Contains(e.Text, "${") {
			c.dollar[k] = e.Text
			e = entry{Text: k}
		}
		if err := c.builder.Set(tag, k, e.message()); err != nil {
			return nil, fmt.Errorf("messages/%s.toml: %s: %w", l, k, err)
		}
	}
	return c, nil
}

func (e entry) message() catalog.Message {
	if e.Forms == nil {
		return catalog.String(e.Text)
	}
	var cases []any
	for _, c := range pluralCategories {
		if f, ok := e.Forms[c]; ok {
			cases = append(cases, c, f)
		}
	}
	return plural.Selectf(e.Arg, "%d", cases...)
}
