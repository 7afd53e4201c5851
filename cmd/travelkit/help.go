package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"travelkit/i18n"
)

// Every word of --help comes from the catalogue (i18n/messages/<lang>.toml), in the
// person's language; the code keeps only Use, the flags' names and the structure:
//
//	[help]                      the root: short, long, example
//	[help.<path>]               a command by its path words joined by dots
//	                            ([help.backup], [help.luks.add-key]): short, long, example
//	[help.<path>.flags]         that command's flags, by name (key-file = "...")
//	[help.flags]                the root's flags, and flags that several commands share
//	                            with the same meaning (used where [help.<path>.flags] has
//	                            no entry for the flag)
//	[help.cobra]                cobra's and pflag's own words: headings, the help flag,
//	                            "(default ...)", and their errors
//
// Texts go through the printer like every message: a % is written %%. A `word` in
// backquotes in a flag's text is the value's name in the usage line (--target file).
// TestHelpTexts fails when a command or a flag has no text in en.toml, and
// TestCatalogue when another language lacks one.

// helpKey is the catalogue table of c's texts: "help", "help.backup", "help.luks.add-key".
func helpKey(c *cobra.Command) string {
	var words []string
	for p := c; p.HasParent(); p = p.Parent() {
		words = append([]string{p.Name()}, words...)
	}
	return strings.Join(append([]string{"help"}, words...), ".")
}

// flagHelpKey is the catalogue key of the text of flag name defined on c.
func flagHelpKey(p *i18n.Printer, c *cobra.Command, name string) string {
	if k := helpKey(c) + ".flags." + name; p.Has(k) {
		return k
	}
	return "help.flags." + name
}

// localizeHelp gives root's whole command tree its help texts in p's language, adding
// cobra's own help and completion commands and help flags first so that they get theirs.
func localizeHelp(root *cobra.Command, p *i18n.Printer) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		if c.Use == "help [command]" && c.Parent() == root {
			// cobra's help command, with its own words in p's language
			c.Use = "help " + p.T("help.cobra.command_arg")
			run := c.Run
			c.Run = func(hc *cobra.Command, args []string) {
				if found, _, err := hc.Root().Find(args); found == nil || err != nil {
					hc.Println(p.T("help.cobra.unknown_topic", fmt.Sprintf("%#q", args)))
					hc.Root().Usage()
					return
				}
				run(hc, args)
			}
		}
		k := helpKey(c)
		for _, t := range []struct {
			field *string
			key   string
		}{{&c.Short, k + ".short"}, {&c.Long, k + ".long"}, {&c.Example, k + ".example"}} {
			if p.Has(t.key) {
				*t.field = p.T(t.key)
			}
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			switch {
			case f.Name == "help" && f.Shorthand == "h":
				f.Usage = p.T("help.cobra.help_flag", c.Name())
			case f.Name == "version" && !c.HasParent():
				f.Usage = p.T("help.cobra.version_flag", c.Name())
			default:
				if k := flagHelpKey(p, c, f.Name); p.Has(k) {
					f.Usage = p.T(k)
				}
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	root.SetUsageFunc(func(c *cobra.Command) error { return writeUsage(c.OutOrStderr(), c, p) })
}

// writeUsage is cobra's usage text (its defaultUsageFunc) with the words in p's language.
func writeUsage(w io.Writer, c *cobra.Command, p *i18n.Printer) error {
	t := func(key string, args ...any) string { return p.T("help.cobra."+key, args...) }
	fmt.Fprint(w, t("usage"))
	if c.Runnable() {
		fmt.Fprintf(w, "\n  %s", useLine(c, p))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n  %s %s", c.CommandPath(), t("command_arg"))
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\n\n%s\n  %s", t("aliases"), c.NameAndAliases())
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\n\n%s\n%s", t("examples"), c.Example)
	}
	if c.HasAvailableSubCommands() {
		list := func(group string) {
			for _, s := range c.Commands() {
				if s.GroupID == group && (s.IsAvailableCommand() || s.Name() == "help") {
					fmt.Fprintf(w, "\n  %s %s", rpad(s.Name(), s.NamePadding()), s.Short)
				}
			}
		}
		if len(c.Groups()) == 0 {
			fmt.Fprint(w, "\n\n"+t("available_commands"))
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() || s.Name() == "help" {
					fmt.Fprintf(w, "\n  %s %s", rpad(s.Name(), s.NamePadding()), s.Short)
				}
			}
		} else {
			for _, g := range c.Groups() {
				fmt.Fprint(w, "\n\n"+g.Title)
				list(g.ID)
			}
			if !c.AllChildCommandsHaveGroup() {
				fmt.Fprint(w, "\n\n"+t("additional_commands"))
				list("")
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\n\n%s\n%s", t("flags"), strings.TrimRight(flagUsages(c.LocalFlags(), p), " \t\n"))
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\n\n%s\n%s", t("global_flags"), strings.TrimRight(flagUsages(c.InheritedFlags(), p), " \t\n"))
	}
	if c.HasHelpSubCommands() {
		fmt.Fprint(w, "\n\n"+t("additional_help_topics"))
		for _, s := range c.Commands() {
			if s.IsAdditionalHelpTopicCommand() {
				fmt.Fprintf(w, "\n  %s %s", rpad(s.CommandPath(), s.CommandPathPadding()), s.Short)
			}
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprint(w, "\n\n"+t("more_info", c.CommandPath()))
	}
	fmt.Fprintln(w)
	return nil
}

// useLine is cobra's UseLine with its "[flags]" in p's language.
func useLine(c *cobra.Command, p *i18n.Printer) string { return useLineMsg(c).In(p) }

// useLineMsg is cobra's UseLine as a message, for errors that quote it.
func useLineMsg(c *cobra.Command) i18n.Message {
	use := c.Use
	if c.HasParent() {
		use = c.Parent().CommandPath() + " " + use
	}
	if !c.DisableFlagsInUseLine && c.HasAvailableFlags() && !strings.Contains(use, "[flags]") {
		return i18n.M("help.cobra.use_flags", use)
	}
	return i18n.M(use) // no words of cobra's: not a key, so written as it is
}

func rpad(s string, n int) string { return fmt.Sprintf("%-*s", n, s) }

// flagUsages is pflag's FlagUsages (same layout) with "(default ...)" in p's language.
func flagUsages(fs *pflag.FlagSet, p *i18n.Printer) string {
	var lines []string
	maxlen := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		line := "      --" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			line = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if varname != "" {
			line += " " + varname
		}
		if f.NoOptDefVal != "" {
			switch f.Value.Type() {
			case "string":
				line += fmt.Sprintf("[=\"%s\"]", f.NoOptDefVal)
			case "bool", "boolfunc":
				if f.NoOptDefVal != "true" {
					line += "[=" + f.NoOptDefVal + "]"
				}
			case "count":
				if f.NoOptDefVal != "+1" {
					line += "[=" + f.NoOptDefVal + "]"
				}
			default:
				line += "[=" + f.NoOptDefVal + "]"
			}
		}
		line += "\x00"
		maxlen = max(maxlen, utf8.RuneCountInString(line)) // pflag counts bytes: the same in ASCII
		line += usage
		if showsDefault(f) {
			def := f.DefValue
			if f.Value.Type() == "string" {
				def = fmt.Sprintf("%q", def)
			}
			line += " " + p.T("help.cobra.default", def)
		}
		if f.Deprecated != "" {
			line += " " + p.T("help.cobra.deprecated", f.Deprecated)
		}
		lines = append(lines, line)
	})
	var b bytes.Buffer
	for _, line := range lines {
		i := strings.Index(line, "\x00")
		fmt.Fprintln(&b, line[:i], strings.Repeat(" ", maxlen-utf8.RuneCountInString(line[:i])), strings.ReplaceAll(line[i+1:], "\n", "\n"+strings.Repeat(" ", maxlen+2)))
	}
	return b.String()
}

// showsDefault is whether pflag would print f's default (its rule is not exported):
// asked of a set holding only f.
func showsDefault(f *pflag.Flag) bool {
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	g := *f
	g.Usage, g.Shorthand, g.NoOptDefVal, g.Deprecated = "\x01", "", "", ""
	fs.AddFlag(&g)
	return strings.Contains(fs.FlagUsages(), "\x01 (default ")
}

// flagError is pflag's error about the command line as a message of the catalogue (its
// English text is pflag's own), or nil for an error it does not know.
func flagError(err error) *i18n.Message {
	var (
		ne *pflag.NotExistError
		ve *pflag.ValueRequiredError
		ie *pflag.InvalidValueError
		se *pflag.InvalidSyntaxError
	)
	var m i18n.Message
	switch {
	case errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "" && ne.GetSpecifiedName() != "":
		m = i18n.M("help.cobra.unknown_shorthand", rune(ne.GetSpecifiedName()[0]), ne.GetSpecifiedShortnames())
	case errors.As(err, &ne) && strings.HasPrefix(err.Error(), "unknown flag: "):
		m = i18n.M("help.cobra.unknown_flag", ne.GetSpecifiedName())
	case errors.As(err, &ve) && ve.GetSpecifiedShortnames() != "" && ve.GetSpecifiedName() != "":
		m = i18n.M("help.cobra.needs_argument_shorthand", rune(ve.GetSpecifiedName()[0]), ve.GetSpecifiedShortnames())
	case errors.As(err, &ve):
		m = i18n.M("help.cobra.needs_argument", ve.GetSpecifiedName())
	case errors.As(err, &ie):
		f := ie.GetFlag()
		name := "--" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			name = "-" + f.Shorthand + ", --" + f.Name
		}
		m = i18n.M("help.cobra.invalid_argument", ie.GetValue(), name, valueError(f, errors.Unwrap(ie)))
	case errors.As(err, &se):
		m = i18n.M("help.cobra.bad_syntax", se.GetSpecifiedFlag())
	default:
		return nil
	}
	return &m
}

// valueError is why pflag refused a flag's value: for its own number, true/false and
// length-of-time flags, in the person's words followed by Go's text; else Go's text (in
// English, always Go's text alone).
func valueError(f *pflag.Flag, cause error) i18n.Message {
	var ne *strconv.NumError
	switch t := f.Value.Type(); {
	case errors.As(cause, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		return i18n.M("help.cobra.value_range", cause.Error())
	case errors.As(cause, &ne) && t == "bool":
		return i18n.M("help.cobra.value_bool", cause.Error())
	case errors.As(cause, &ne):
		return i18n.M("help.cobra.value_number", cause.Error())
	case t == "duration":
		return i18n.M("help.cobra.value_duration", cause.Error())
	}
	return i18n.M(cause.Error()) // not a key: written as it is
}

// cobra's own errors about arguments and required flags (plain fmt.Errorf texts). kinds
// says what each submatch is: q a %q-quoted text, d a number, s a text, t suggestions.
var cobraErrors = []struct {
	re    *regexp.Regexp
	key   string
	kinds string
}{
	{regexp.MustCompile(`^unknown command "(.*)" for "(.*)"((?s)\n\nDid you mean this\?\n.*)?$`), "help.cobra.unknown_command", "qqt"},
	{regexp.MustCompile(`^invalid argument "(.*)" for "(.*)"((?s)\n\nDid you mean this\?\n.*)?$`), "help.cobra.invalid_choice", "qqt"},
	{regexp.MustCompile(`^requires at least (\d+) arg\(s\), only received (\d+)$`), "help.cobra.at_least_args", "dd"},
	{regexp.MustCompile(`^accepts at most (\d+) arg\(s\), received (\d+)$`), "help.cobra.at_most_args", "dd"},
	{regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`), "help.cobra.exact_args", "dd"},
	{regexp.MustCompile(`^accepts between (\d+) and (\d+) arg\(s\), received (\d+)$`), "help.cobra.range_args", "ddd"},
	{regexp.MustCompile(`^required flag\(s\) (.*) not set$`), "help.cobra.required_flags", "s"},
	{regexp.MustCompile(`^if any flags in the group \[(.*)\] are set they must all be set; missing \[(.*)\]$`), "help.cobra.group_all", "ss"},
	{regexp.MustCompile(`^at least one of the flags in the group \[(.*)\] is required$`), "help.cobra.group_one", "s"},
	{regexp.MustCompile(`^if any flags in the group \[(.*)\] are set none of the others can be; \[(.*)\] were all set$`), "help.cobra.group_exclusive", "ss"},
}

// cobraError is err as a message of the catalogue when it is one of cobra's own errors
// or pflag's (its English text stays theirs), else err.
func cobraError(err error) error {
	if err == nil {
		return nil
	}
	if m := flagError(err); m != nil {
		return &i18n.Error{Message: *m, Err: err}
	}
	for _, ce := range cobraErrors {
		sub := ce.re.FindStringSubmatch(err.Error())
		if sub == nil {
			continue
		}
		args := make([]any, len(ce.kinds))
		for i, s := range sub[1:] {
			switch ce.kinds[i] {
			case 'd':
				n, _ := strconv.Atoi(s)
				args[i] = n
			case 'q':
				if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
					s = u
				}
				args[i] = s
			case 't': // "\n\nDid you mean this?\n\tname\n": the names in the person's words
				args[i] = ""
				if names, ok := strings.CutPrefix(s, "\n\nDid you mean this?\n"); ok {
					args[i] = i18n.M("help.cobra.did_you_mean", strings.TrimSuffix(names, "\n"))
				}
			default:
				args[i] = s
			}
		}
		return &i18n.Error{Message: i18n.M(ce.key, args...), Err: err}
	}
	return err
}
