package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"travelkit/i18n"
)

// cliKey is what a message key of the command line looks like.
var cliKey = regexp.MustCompile(`^cli\.[a-z_]+(\.[a-z_]+)*$`)

// TestMessageKeysExist: every string in the command's code that looks like a message key
// ("cli.restore.done", passed to tr.T, errorT, usageErrorT, withCodeT or kept in a
// field) is in the catalogue, whose own test (package i18n) holds every language to
// en.toml. A key with a typo, or a message not written yet, fails here.
func TestMessageKeysExist(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	p := i18n.New("en")
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !cliKey.MatchString(s) {
				return true
			}
			found++
			if !p.Has(s) {
				t.Errorf("%s: message %q is not in i18n/messages/en.toml", name, s)
			}
			return true
		})
	}
	if found < 40 {
		t.Fatalf("only %d message keys found in the command's code", found)
	}
}

func TestLangArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "fa", "restore"}, "fa"},
		{[]string{"restore", "--lang=ar", "latest"}, "ar"},
		{[]string{"restore", "--", "--lang", "fr"}, ""},
		{[]string{"restore", "--lang"}, ""},
		{nil, ""},
	} {
		if got := langArg(c.args); got != c.want {
			t.Errorf("langArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
