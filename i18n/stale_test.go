package i18n

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// accept re-accepts translations after a translator looked at them again (see
// TestTranslationsCurrent): "fr:cli.copy.sent" (one message), "fr:cli.copy" (a table),
// "fr" (a language), "all"; several separated by commas.
var accept = flag.String("accept", "", "record the English that translations were checked against: all, LANG, or LANG:KEY (a key or a table), comma-separated")

// sourceHeader starts every messages/<lang>.source file.
const sourceHeader = `# The English text each message of %[1]s.toml was translated from: the first 8 hex
# digits of the SHA-256 of the message in en.toml, then its key. TestTranslationsCurrent
# fails for a message whose English changed since: update the translation, then accept it:
#   go test ./i18n/ -run TestTranslationsCurrent -accept %[1]s:KEY
`

// englishHash is a short hash of an English message: its text, or its plural forms in
// CLDR's order with the argument that chooses them.
func englishHash(e entry) string {
	var b strings.Builder
	if e.Forms == nil {
		b.WriteString(e.Text)
	} else {
		fmt.Fprintf(&b, "arg=%d", e.Arg)
		for _, c := range pluralCategories {
			if f, ok := e.Forms[c]; ok {
				fmt.Fprintf(&b, "\x00%s=%s", c, f)
			}
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:4])
}

func sourcePath(lang string) string { return filepath.Join("messages", lang+".source") }

// readSource reads messages/<lang>.source: key -> hash of the English it was made from.
func readSource(lang string) (map[string]string, error) {
	b, err := os.ReadFile(sourcePath(lang))
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hash, key, ok := strings.Cut(line, " ")
		if !ok || len(hash) != 8 || key == "" {
			return nil, fmt.Errorf("%s:%d: want \"HASH KEY\", have %q", sourcePath(lang), n, line)
		}
		out[key] = hash
	}
	return out, sc.Err()
}

func writeSource(lang string, m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	fmt.Fprintf(&b, sourceHeader, lang)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", m[k], k)
	}
	return os.WriteFile(sourcePath(lang), b.Bytes(), 0o644)
}

// accepts reports whether -accept covers key in lang.
func accepts(spec, lang, key string) bool {
	for _, a := range strings.Split(spec, ",") {
		a = strings.TrimSpace(a)
		l, k, hasKey := strings.Cut(a, ":")
		if a == "all" || l == lang && (!hasKey || inTables(key, []string{k})) {
			return true
		}
	}
	return false
}

// TestTranslationsCurrent: when an English message changes, its five translations must be
// looked at again. messages/<lang>.source records, for each message of <lang>.toml, a
// short hash of the English it was translated from; the test fails, naming the key and
// the language, for a message whose English changed since (or that has no record: a new
// message). After the translation is updated (or found still right), accept it with
//
//	go test ./i18n/ -run TestTranslationsCurrent -accept fr:cli.copy.sent
//
// (a key, a table such as fr:cli.copy, a language, or all; comma-separated), which
// rewrites the .source files and passes. Records of keys gone from en.toml are dropped
// at the next -accept.
func TestTranslationsCurrent(t *testing.T) {
	c, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	en := c.entries["en"]
	for _, lang := range Languages() {
		if lang == "en" {
			continue
		}
		src, err := readSource(lang)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		var keys []string
		for key := range c.entries[lang] {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			ref, ok := en[key]
			if !ok {
				continue // TestCatalogue reports it
			}
			want := englishHash(ref)
			got, ok := src[key]
			if got == want {
				continue
			}
			if *accept != "" && accepts(*accept, lang, key) {
				src[key] = want
				changed = true
				continue
			}
			if !ok {
				t.Errorf("%s.toml: %s: no record of the English it was translated from (a new message?): check the translation, then: go test ./i18n/ -run TestTranslationsCurrent -accept %s:%s", lang, key, lang, key)
			} else {
				t.Errorf("%s.toml: %s: the English changed since it was translated (now %q): update the translation, then: go test ./i18n/ -run TestTranslationsCurrent -accept %s:%s", lang, key, ref.sample(), lang, key)
			}
		}
		for key := range src {
			if _, ok := c.entries[lang][key]; !ok && *accept != "" && accepts(*accept, lang, key) {
				delete(src, key)
				changed = true
			}
		}
		if changed {
			if err := writeSource(lang, src); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: accepted, %s rewritten", lang, sourcePath(lang))
		}
	}
}
