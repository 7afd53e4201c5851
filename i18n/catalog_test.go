package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// verbRE finds fmt verbs: %% or %[n] with flags, width and precision.
var verbRE = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*(\d+|\*)?(\.(\d+|\*))?([a-zA-Z%])`)

// verbs lists a message's placeholders as "n:verb" ("1:s", "2:d"); a verb without an
// argument number is reported as an error, since a translation could not move it.
func verbs(s string) ([]string, error) {
	var out []string
	for _, m := range verbRE.FindAllStringSubmatch(s, -1) {
		if m[6] == "%" && m[1] == "" {
			continue
		}
		if m[2] == "" {
			return nil, fmt.Errorf("placeholder %q has no number: write %%[1]%s", m[0], m[6])
		}
		out = append(out, m[2]+":"+m[6])
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// categories are the plural forms a language uses for whole numbers, as the printer
// chooses them, plus "other" (which the catalogue always needs).
func categories(lang string) []string {
	names := map[plural.Form]string{plural.Other: "other", plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many"}
	set := map[string]bool{"other": true}
	tag := language.MustParse(lang)
	for n := 0; n <= 1200; n++ {
		set[names[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)]] = true
	}
	for _, n := range []int{1e4, 1e5, 1e6, 2e6, 1e9} {
		set[names[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)]] = true
	}
	var out []string
	for _, c := range pluralCategories {
		if set[c] {
			out = append(out, c)
		}
	}
	return out
}

// technical are words that must not reach the person (the issue: "Technical words (LUKS,
// keyslot) stay out of what the person reads").
var technical = regexp.MustCompile(`(?i)\b(luks2?|key ?slots?|argon2(id|i)?|pbkdf2?|kdf|ext4|cryptsetup|restic|dm-crypt|uuid|sha-?256|zxcvbn|gpt|fat32)\b`)

// technicalTables may name them: messages for helpline staff who type commands (add a
// table here only for text that names a command or a format the reader must type).
// cli.luks: the messages of `travelkit luks ...` only, the cryptsetup-compatible
// expert tool, whose arguments are keyslot numbers, LUKS2 headers and cryptsetup's
// flags (cmd/travelkit TestTechnicalTablesStayExpert keeps every other command out of it).
var technicalTables = []string{
	"help",     // --help: read by people who type commands, and about formats and tools
	"cli.luks", // the luks commands' own messages (see above)
	// profile check: the profile's own fields, as its author (staff) wrote them in the
	// file ([luks], [tpm]); cmd/travelkit TestTechnicalTablesStayExpert keeps it there
	"cli.profile",
}

// pendingTranslation are keys (a prefix, as in technicalTables) whose translations are
// being written: a language may lack them for now and shows the English text meanwhile.
// "prefix" holds for every language, "fr,es:prefix" for those. Remove an entry when its
// translations land; nothing else may be missing.
var pendingTranslation = []string{}

// pending reports whether lang may lack key for now (pendingTranslation).
func pending(lang, key string) bool {
	for _, p := range pendingTranslation {
		if langs, rest, ok := strings.Cut(p, ":"); ok {
			if slices.Contains(strings.Split(langs, ","), lang) && inTables(key, []string{rest}) {
				return true
			}
		} else if inTables(key, []string{p}) {
			return true
		}
	}
	return false
}

func TestCatalogue(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	en := c.entries["en"]
	if len(en) == 0 {
		t.Fatal("en.toml has no messages")
	}
	for _, lang := range Languages() {
		m := c.entries[lang]
		need := categories(lang)
		for key, ref := range en {
			e, ok := m[key]
			if !ok && pending(lang, key) {
				continue
			}
			if !ok {
				t.Errorf("%s.toml: %s is missing (en: %q)", lang, key, ref.sample())
				continue
			}
			refVerbs, err := ref.verbs()
			if err != nil {
				t.Errorf("en.toml: %s: %v", key, err)
				continue
			}
			if e.Forms == nil && ref.Forms != nil && !slices.Equal(need, []string{"other"}) {
				t.Errorf("%s.toml: %s must be a table of forms (%s), as in en.toml", lang, key, strings.Join(need, ", "))
			}
			if e.Forms != nil {
				for _, c := range need {
					if _, ok := e.Forms[c]; !ok {
						t.Errorf("%s.toml: %s lacks the form %q (%s needs %s)", lang, key, c, lang, strings.Join(need, ", "))
					}
				}
				for c := range e.Forms {
					if !slices.Contains(need, c) {
						t.Errorf("%s.toml: %s has the form %q, which %s never uses (it needs %s)", lang, key, c, lang, strings.Join(need, ", "))
					}
				}
				if ref.Forms != nil && e.Arg != ref.Arg {
					t.Errorf("%s.toml: %s: arg = %d, en.toml has %d", lang, key, e.Arg, ref.Arg)
				}
			}
			for _, text := range e.texts() {
				got, err := verbs(text)
				if err != nil {
					t.Errorf("%s.toml: %s: %v", lang, key, err)
					continue
				}
				want := refVerbs
				if e.Forms != nil {
					// a form may leave out the number that chooses it ("one file")
					arg := strconv.Itoa(e.Arg) + ":"
					if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, arg) }) {
						want = slices.DeleteFunc(slices.Clone(want), func(v string) bool { return strings.HasPrefix(v, arg) })
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s.toml: %s: %q has placeholders %v, en.toml has %v", lang, key, text, got, want)
				}
				if w := technical.FindString(text); w != "" && !inTables(key, technicalTables) {
					t.Errorf("%s.toml: %s: %q names %q: say it in everyday words", lang, key, text, w)
				}
			}
		}
		for key := range m {
			if _, ok := en[key]; !ok {
				t.Errorf("%s.toml: %s is not in en.toml (misspelt, or removed there)", lang, key)
			}
		}
	}
}

func inTables(key string, tables []string) bool {
	for _, t := range tables {
		if key == t || strings.HasPrefix(key, t+".") {
			return true
		}
	}
	return false
}

func (e entry) texts() []string {
	if e.Forms == nil {
		return []string{e.Text}
	}
	var out []string
	for _, c := range pluralCategories {
		if f, ok := e.Forms[c]; ok {
			out = append(out, f)
		}
	}
	return out
}

func (e entry) sample() string { return e.texts()[len(e.texts())-1] }

// verbs of a reference message: its "other" form has every placeholder.
func (e entry) verbs() ([]string, error) { return verbs(e.sample()) }

var tmplKeyRE = regexp.MustCompile(`\.P\.(?:T|HTML) "([^"]+)"`)

// TestKeysExist finds every literal key given to the catalogue in the module's Go files
// (p.T("..."), p.HTML("..."), i18n.M("..."), i18n.Errorf("...") in files that import this
// package, and {{.P.T "..."}} in templates) and fails for one en.toml lacks.
func TestKeysExist(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	en := c.entries["en"]
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".tmpl") {
			// templates call the printer as {{.P.T "key" ...}} or {{$.P.HTML "key" ...}}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range tmplKeyRE.FindAllStringSubmatch(string(b), -1) {
				found++
				if _, ok := en[m[1]]; !ok {
					t.Errorf("%s: key %q is not in i18n/messages/en.toml", p, m[1])
				}
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		imports := filepath.Base(filepath.Dir(p)) == "i18n"
		for _, im := range f.Imports {
			if im.Path.Value == `"travelkit/i18n"` {
				imports = true
			}
		}
		if !imports {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "T", "HTML":
			case "M", "Errorf":
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "i18n" {
					return true
				}
			default:
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.Contains(key, ".") && !strings.HasPrefix(key, "wizard") {
				return true
			}
			found++
			if _, ok := en[key]; !ok {
				t.Errorf("%s: key %q is not in i18n/messages/en.toml", fset.Position(lit.Pos()), key)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d literal keys checked", found)
}
