package kit

import (
	"reflect"
	"testing"

	"travelkit/i18n"
)

// The RESTORE pages use each language's one word for each thing (i18n's [glossary]):
// the person meets the same "recovery key" on the paper, the boot menu, the wizard and
// the command line.
func TestGlossaryRestorePages(t *testing.T) {
	ref := reflect.ValueOf(en)
	for lang, m := range catalogs {
		v := reflect.ValueOf(*m)
		for i := 0; i < v.NumField(); i++ {
			name := v.Type().Field(i).Name
			english, text := ref.Field(i).String(), v.Field(i).String()
			issues, err := i18n.GlossaryIssues(lang, english, text)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range issues {
				t.Errorf("messages_%s.go: %s: %s\n\ten: %q\n\t%s: %q", lang, name, is, english, lang, text)
			}
		}
	}
}
