package i18n

import (
	"regexp"
	"strings"
	"testing"
)

// exampleCommands is an example's text with the comments cut: each line up to a " #"
// (a comment after the command) or a line that is a comment, right-trimmed.
func exampleCommands(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			l = ""
		} else if j := strings.Index(l, " #"); j >= 0 {
			l = l[:j]
		}
		lines[i] = strings.TrimRight(l, " \t")
	}
	return lines
}

// TestHelpExamples: a translated --help example is the English one with only its
// comments translated, line for line, so that a person can copy the commands.
func TestHelpExamples(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	en := c.entries["en"]
	for _, lang := range Languages() {
		for key, e := range c.entries[lang] {
			ref, ok := en[key]
			if !ok || !strings.HasPrefix(key, "help.") || !strings.HasSuffix(key, ".example") || e.Forms != nil {
				continue
			}
			got, want := exampleCommands(e.Text), exampleCommands(ref.Text)
			if len(got) != len(want) {
				t.Errorf("%s.toml: %s has %d lines, en.toml %d: keep the example's lines", lang, key, len(got), len(want))
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s.toml: %s line %d: the command is %q, en.toml has %q: translate only the # comments", lang, key, i+1, got[i], want[i])
				}
			}
		}
	}
}

// valueName is pflag's rule (UnquoteUsage): the first `word` in backquotes names the
// flag's value in the usage line.
var valueName = regexp.MustCompile("`([^`]*)`")

// TestHelpValueNames: a flag's text names its value in backquotes in every language
// where English does (else the usage line shows the Go type: "--target string"), and
// the name is a word, not empty.
func TestHelpValueNames(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	en := c.entries["en"]
	for _, lang := range Languages() {
		for key, e := range c.entries[lang] {
			ref, ok := en[key]
			if !ok || !strings.HasPrefix(key, "help.") || !strings.Contains(key, ".flags.") || e.Forms != nil {
				continue
			}
			want := valueName.FindStringSubmatch(ref.Text)
			got := valueName.FindStringSubmatch(e.Text)
			switch {
			case want != nil && got == nil:
				t.Errorf("%s.toml: %s has no `value name` in backquotes (en.toml: `%s`): the usage line would show its type", lang, key, want[1])
			case want == nil && got != nil:
				t.Errorf("%s.toml: %s has `%s` in backquotes, en.toml none: the usage line would show it as the value's name", lang, key, got[1])
			case got != nil && strings.TrimSpace(got[1]) == "":
				t.Errorf("%s.toml: %s: the value name in backquotes is empty", lang, key)
			}
		}
	}
}
