package main

import (
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"travelkit/i18n"
)

// cobraMade is whether c is one of cobra's own commands (help, completion), whose code
// is not ours: their English stays in cobra too, and en.toml gives them in every language.
func cobraMade(c *cobra.Command) bool {
	path := c.CommandPath()
	return path == "travelkit help" || path == "travelkit completion" || strings.HasPrefix(path, "travelkit completion ")
}

func walkCommands(c *cobra.Command, fn func(*cobra.Command)) {
	if c.Hidden {
		return
	}
	fn(c)
	for _, s := range c.Commands() {
		walkCommands(s, fn)
	}
}

// enHelpKeys are the keys of en.toml's [help] tables, but [help.cobra].
func enHelpKeys(t *testing.T) []string {
	var raw map[string]any
	if _, err := toml.DecodeFile("../../i18n/messages/en.toml", &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+"."+k, sub)
			} else {
				keys = append(keys, prefix+"."+k)
			}
		}
	}
	walk("help", raw["help"].(map[string]any))
	sort.Strings(keys)
	return keys
}

// TestHelpTexts walks the whole command tree: every command has its texts and every flag
// its text in en.toml (the reference every language follows; TestCatalogue in package
// i18n fails when another language lacks one), the code holds none of them, and en.toml
// holds none for a command or a flag that is gone.
func TestHelpTexts(t *testing.T) {
	en := i18n.New("en")
	root := newCommandTree()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	used := map[string]bool{}
	commands := 0
	walkCommands(root, func(c *cobra.Command) {
		commands++
		k := helpKey(c)
		if !en.Has(k + ".short") {
			t.Errorf("%s: no help text: en.toml lacks [%s] short", c.CommandPath(), k)
		}
		for _, f := range []string{".short", ".long", ".example"} {
			used[k+f] = true
		}
		if !cobraMade(c) && (c.Short != "" || c.Long != "" || c.Example != "") {
			t.Errorf("%s: Short, Long or Example is written in the code: it belongs in en.toml [%s]", c.CommandPath(), k)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" || f.Name == "version" && c == root {
				return
			}
			key := flagHelpKey(en, c, f.Name)
			used[key] = true
			if !en.Has(key) {
				t.Errorf("%s --%s: no help text: en.toml lacks %s (or help.flags.%[2]s)", c.CommandPath(), f.Name, helpKey(c)+".flags."+f.Name)
			}
			if !cobraMade(c) && f.Usage != "" {
				t.Errorf("%s --%s: its text is written in the code: it belongs in en.toml [%s.flags]", c.CommandPath(), f.Name, helpKey(c))
			}
		})
	})
	if commands < 60 {
		t.Fatalf("only %d commands found", commands)
	}
	for _, k := range enHelpKeys(t) {
		if !used[k] && !strings.HasPrefix(k, "help.cobra.") {
			t.Errorf("en.toml: %s is the text of no command or flag (misspelt, or the command is gone)", k)
		}
	}
}

// TestHelpLanguages renders every command's help in every language: no key is left
// unresolved, no placeholder broken, and outside English none of cobra's English words
// are left.
func TestHelpLanguages(t *testing.T) {
	// cobra's English words: its headings (whole lines), the help flag's text, the last
	// line, and a flag's default (the texts themselves may say "(default: ...)")
	english := regexp.MustCompile(`(?m)^(Usage|Aliases|Examples|Available Commands|Additional Commands|Flags|Global Flags|Additional help topics):$|--help +help for |for more information about a command|\[flags\]|\[command\]`)
	for _, lang := range i18n.Languages() {
		p := i18n.New(lang)
		root := newCommandTree()
		localizeHelp(root, p)
		walkCommands(root, func(c *cobra.Command) {
			var b strings.Builder
			c.SetOut(&b)
			c.SetErr(&b)
			if err := c.Help(); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if strings.Contains(out, "help.") && strings.Contains(out, "help.cobra.") || strings.Contains(out, "%!") {
				t.Errorf("%s: %s --help has a broken message:\n%s", lang, c.CommandPath(), out)
			}
			if c.CommandPath() == "travelkit completion zsh" && !strings.Contains(out, `"${fpath[1]}/_travelkit"`) {
				// "${" is also the catalogue's own syntax (i18n keeps such texts apart)
				t.Errorf("%s: %s --help lost zsh's ${fpath[1]}:\n%s", lang, c.CommandPath(), out)
			}
			if lang == "en" {
				return
			}
			if w := english.FindString(out); w != "" {
				t.Errorf("%s: %s --help has cobra's English %q:\n%s", lang, c.CommandPath(), w, out)
			}
		})
	}
}

// TestHelpCobraWords: every one of cobra's words ([help.cobra]) is translated.
func TestHelpCobraWords(t *testing.T) {
	en := i18n.New("en")
	n := 0
	for _, k := range enHelpKeys(t) {
		if !strings.HasPrefix(k, "help.cobra.") {
			continue
		}
		n++
		for _, lang := range i18n.Languages() {
			if lang != "en" && i18n.New(lang).T(k) == en.T(k) {
				t.Errorf("%s: %s is the English text %q", lang, k, en.T(k))
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d of cobra's words in en.toml", n)
	}
}

// TestHelpCobraErrors makes cobra's and pflag's real errors and writes them in every
// language: in English exactly cobra's text, elsewhere a translation.
func TestHelpCobraErrors(t *testing.T) {
	c := &cobra.Command{Use: "x", ValidArgs: []string{"alpha"}}
	var errs []error
	for _, check := range []cobra.PositionalArgs{cobra.ExactArgs(1), cobra.MinimumNArgs(3), cobra.MaximumNArgs(1), cobra.RangeArgs(3, 4), cobra.OnlyValidArgs} {
		errs = append(errs, check(c, []string{"a", "b"}))
	}
	// unknown commands, with and without a suggestion; required flags and flag groups
	for _, args := range [][]string{{"frobnicate"}, {"restor"}, {"snapshots", "x", "y"}} {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(new(strings.Builder))
		errs = append(errs, root.Execute())
	}
	for _, g := range []struct {
		mark func(*cobra.Command)
		args []string
	}{
		{func(c *cobra.Command) { c.MarkFlagRequired("a"); c.MarkFlagRequired("b") }, nil},
		{func(c *cobra.Command) { c.MarkFlagsRequiredTogether("a", "b") }, []string{"--a", "1"}},
		{func(c *cobra.Command) { c.MarkFlagsOneRequired("a", "b") }, nil},
		{func(c *cobra.Command) { c.MarkFlagsMutuallyExclusive("a", "b") }, []string{"--a", "1", "--b", "2"}},
	} {
		c := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
		c.Flags().String("a", "", "")
		c.Flags().String("b", "", "")
		g.mark(c)
		c.SetArgs(g.args)
		errs = append(errs, c.Execute())
	}
	for _, args := range [][]string{{"--nope"}, {"-z"}, {"-vz"}, {"--n"}, {"-n"}, {"--n", "x"}, {"--n", "99999999999999999999"}, {"-v=maybe"}, {"--d", "5"}, {"---x"}} {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		fs.IntP("n", "n", 0, "")
		fs.BoolP("v", "v", false, "")
		fs.Duration("d", 0, "")
		errs = append(errs, fs.Parse(args))
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("no error made")
		}
		ce := cobraError(err)
		var ie *i18n.Error
		if !errors.As(ce, &ie) {
			t.Errorf("%q: not found among cobra's errors", err)
			continue
		}
		for _, lang := range i18n.Languages() {
			got := i18n.New(lang).Error(ce)
			switch {
			case lang == "en" && got != err.Error():
				t.Errorf("en: %q written as %q", err, got)
			case lang != "en" && (got == err.Error() || strings.Contains(got, "%!") || strings.Contains(got, "help.cobra")):
				t.Errorf("%s: %q written as %q", lang, err, got)
			}
		}
	}
}
