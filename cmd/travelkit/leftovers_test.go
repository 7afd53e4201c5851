package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"travelkit/i18n"
	"travelkit/mirror"
	"travelkit/remote"
)

// keysIn are the literal message keys with prefix that a package's non-test files pass
// to i18n.M or i18n.Errorf.
func keysIn(t *testing.T, dir, prefix string) []string {
	t.Helper()
	re := regexp.MustCompile(`i18n\.(?:M|Errorf)\("(` + regexp.QuoteMeta(prefix) + `[a-z_.]+)"`)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(dir + "/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// TestCopyWarningsTranslated: what `copy` tells while it retries a file or meets a
// server that keeps everything comes in the person's language, with the server's or the
// system's own words for the cause where the catalogue has none; --json keeps the mirror
// package's English text, unchanged.
func TestCopyWarningsTranslated(t *testing.T) {
	cause := fmt.Errorf("%w: dial tcp 127.0.0.1:22: connection refused", remote.ErrUnreachable)
	other := fmt.Errorf("HTTP 503: Slow Down")
	var samples []mirror.Warning
	for _, k := range keysIn(t, "../../mirror", "mirror.") {
		var what i18n.Message
		switch k {
		case "mirror.doing.send", "mirror.doing.remove":
			what = i18n.M(k, "data/0123abcd")
		default:
			what = i18n.M(k)
		}
		if strings.HasPrefix(k, "mirror.notice.") {
			samples = append(samples, mirror.Warning{What: what})
			continue
		}
		samples = append(samples, mirror.Warning{What: what, Err: cause, Wait: 2 * time.Second},
			mirror.Warning{What: what, Err: other, Wait: time.Minute})
	}
	if len(samples) < 10 {
		t.Fatalf("only %d warnings found in package mirror", len(samples))
	}
	defer func(p *i18n.Printer) { tr = p }(tr)
	for _, w := range samples {
		tr = i18n.New("en")
		english := w.What.In(tr)
		got := warningText(w)
		if !strings.HasPrefix(w.String(), english) || !strings.HasPrefix(got, english) {
			t.Errorf("English: %q / %q, want them to start with %q", got, w.String(), english)
		}
		if w.Err != nil && (!strings.Contains(got, w.Err.Error()) || !strings.Contains(w.String(), "; trying again in ")) {
			t.Errorf("English: %q / %q lacks the cause or the retry", got, w.String())
		}
		for _, lang := range i18n.Languages() {
			if lang == "en" {
				continue
			}
			tr = i18n.New(lang)
			got := warningText(w)
			if strings.Contains(got, english) || strings.Contains(got, "trying again") {
				t.Errorf("%s: %q is still in English", lang, got)
			}
			if w.Err == cause && strings.Contains(got, "connection refused") {
				t.Errorf("%s: %q: the cause has words in the catalogue, yet it is in English", lang, got)
			}
			if w.Err == other && !strings.Contains(got, "HTTP 503: Slow Down") {
				t.Errorf("%s: %q lost the server's own words", lang, got)
			}
			if strings.Contains(english, "data/0123abcd") && !strings.Contains(got, "data/0123abcd") {
				t.Errorf("%s: %q lost the file's name", lang, got)
			}
		}
	}
}
