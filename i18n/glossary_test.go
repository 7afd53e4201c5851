package i18n

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// glossaryExceptions are messages where a term the English names is rightly absent from
// a translation: "lang:key:term" -> why. Keep it short; prefer rewording the message.
var glossaryExceptions = map[string]string{}

// TestGlossary: every language names each thing the person meets with its one chosen word
// ([glossary] in messages/<lang>.toml): a message whose English uses a glossary word uses
// a form of that language's term, and no message uses a rival word.
func TestGlossary(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	g, err := glossaries()
	if err != nil {
		t.Fatal(err)
	}
	if len(g["en"]) == 0 {
		t.Fatal("en.toml has no [glossary]")
	}
	for _, lang := range Languages() {
		for id, term := range g[lang] {
			if _, ok := g["en"][id]; !ok {
				t.Errorf("%s.toml: [glossary.%s] is not in en.toml", lang, id)
			}
			if len(term.Forms) == 0 {
				t.Errorf("%s.toml: [glossary.%s] has no forms", lang, id)
			}
			// a rival word must not be (part of) a term this language chose
			for _, a := range term.Avoid {
				for id2, t2 := range g[lang] {
					for _, f := range t2.Forms {
						if wordAt(f, a) {
							t.Errorf("%s.toml: [glossary.%s] avoids %q, but [glossary.%s] uses %q", lang, id, a, id2, f)
						}
					}
				}
			}
		}
	}
	used := map[string]bool{}
	for _, lang := range Languages() {
		keys := make([]string, 0, len(c.entries[lang]))
		for k := range c.entries[lang] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			en := strings.Join(c.entries["en"][key].texts(), "\n")
			for _, text := range c.entries[lang][key].texts() {
				issues, err := GlossaryIssues(lang, en, text)
				if err != nil {
					t.Fatal(err)
				}
				for _, is := range issues {
					id, _, _ := strings.Cut(is, ":")
					if inTables(key, g["en"][id].Skip) {
						continue
					}
					x := lang + ":" + key + ":" + id
					if _, ok := glossaryExceptions[x]; ok {
						used[x] = true
						continue
					}
					t.Errorf("%s.toml: %s: %s\n\ten: %q\n\t%s: %q", lang, key, is, en, lang, text)
				}
			}
		}
	}
	for x := range glossaryExceptions {
		if !used[x] {
			t.Errorf("glossaryExceptions: %s is no longer needed: remove it", x)
		}
	}
}

// TestGlossaryMatching: what counts as using a term, and what does not.
func TestGlossaryMatching(t *testing.T) {
	for _, c := range []struct {
		lang, en, tr string
		want         string // the term id reported, or "" for none
	}{
		{"fr", "Type the passphrase.", "Tapez la phrase de passe.", "passphrase"},     // a rival word
		{"es", "Type the passphrase.", "Escriba la frase.", "passphrase"},             // the term left out
		{"es", "Type the passphrase.", "Escriba la frase de\ncontraseña.", ""},        // across a line break
		{"ru", "Use --passphrase-file or recovery-key.txt.", "Используйте файл.", ""}, // flag and file names
		{"ru", "Open it with the recovery key.", "Откройте ключом восстановления.", ""},
		{"ar", "Open it with the recovery key.", "افتحها بمفتاح الاستعادة.", ""}, // an attached prefix
		{"ar", "Open it with the recovery key.", "افتحها بمفتاح الاسترداد.", "recovery_key"},
		{"fa", "inside the encrypted volume", "درون بخش رمزگذاری شدهٔ کیت", ""}, // half-space, ezafe
		{"ru", "give --target KIT", "укажите --target KIT", ""},                 // a value name
		{"es", "the header backup is written", "se escribe la copia de la cabecera", ""},
		{"ru", "run travelkit backup", "запустите travelkit backup", ""}, // a command
		{"fr", "the recovery key", "la clé de secours", "recovery_key"},
	} {
		issues, err := GlossaryIssues(c.lang, c.en, c.tr)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(issues) > 0 {
			got, _, _ = strings.Cut(issues[0], ":")
		}
		if got != c.want {
			t.Errorf("%s %q for %q: issues %q, want %q", c.lang, c.tr, c.en, issues, c.want)
		}
	}
}

// TestGlossaryCatchesRivals: the check sees a rival word and a missing term.
func TestGlossaryCatchesRivals(t *testing.T) {
	issues, err := GlossaryIssues("fr", "Type the passphrase.", "Tapez la phrase de passe.")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(issues, func(s string) bool { return strings.HasPrefix(s, "passphrase:") }) {
		t.Errorf("fr \"phrase de passe\" for passphrase: no issue (%q)", issues)
	}
	issues, _ = GlossaryIssues("ru", "Use the file --passphrase-file or recovery-key.txt.", "Используйте файл.")
	if len(issues) != 0 {
		t.Errorf("flag and file names are not prose, but: %q", issues)
	}
}
