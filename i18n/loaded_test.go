package i18n

import "testing"

// catalogue is every language's messages, as the files have them (for the tests, which
// check all six; a program reads only the languages it uses).
type catalogue struct {
	entries map[string]map[string]entry // lang -> key -> entry
}

// loaded reads all six languages (through the same once-per-language loading as New, so
// every file's messages are also built into its printer's catalogue).
func loaded() (*catalogue, error) {
	c := &catalogue{entries: map[string]map[string]entry{}}
	for _, l := range Languages() {
		lc, err := langCat(l)
		if err != nil {
			return nil, err
		}
		c.entries[l] = lc.entries
	}
	return c, nil
}

// TestLoadsOnlyWhatIsUsed: a printer reads its language's file and en.toml, no other.
func TestLoadsOnlyWhatIsUsed(t *testing.T) {
	// a fresh set of once-loaders, as at a program's start
	saved := langs
	defer func() { langs = saved }()
	read := map[string]int{}
	langs = map[string]func() (*langCatalogue, error){}
	for _, l := range Languages() {
		var c *langCatalogue
		var err error
		done := false
		langs[l] = func() (*langCatalogue, error) {
			if !done {
				read[l]++
				c, err = loadLang(l)
				done = true
			}
			return c, err
		}
	}
	p := New("fa")
	if got := p.T("cli.error", "x"); got == "cli.error" || got == New("en").T("cli.error", "x") {
		t.Errorf("fa printer: cli.error = %q, want the Persian text", got)
	}
	New("fa")
	if len(read) != 2 || read["en"] != 1 || read["fa"] != 1 {
		t.Errorf("New(\"fa\") twice read %v, want en and fa once each", read)
	}
}

// BenchmarkStart is what a command pays for its messages: en.toml and one other
// language, read and built (b.ReportAllocs; compare BenchmarkAllLanguages).
func BenchmarkStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadLang("en"); err != nil {
			b.Fatal(err)
		}
		if _, err := loadLang("fa"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartEnglish is BenchmarkStart for an English-speaking person: en.toml only.
func BenchmarkStartEnglish(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadLang("en"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllLanguages is what every command paid before languages were read on first
// use: all six files, read and built.
func BenchmarkAllLanguages(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range Languages() {
			if _, err := loadLang(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}
