package main

import (
	"errors"
	"os"
	"strings"

	"travelkit/i18n"
	"travelkit/internal/termsafe"
	"travelkit/luks"
	"travelkit/repo"
)

// tr writes what the person reads (prompts, progress lines, errors, hints and results)
// in their language: --lang, else LANGUAGE, LC_ALL, LC_MESSAGES, LANG, else the
// system's preferred languages (i18n.Choose), else English. Set once in run, before the
// command line is parsed, so that even a bad flag is reported in that language. --json
// output and what scripts parse (IDs, paths, sizes) are not translated.
var tr = i18n.New("en")

// english writes the English text of messages (Error() and Hint() of errors: logs,
// scripts, wrapped errors).
var english = i18n.New("en")

// setLanguage chooses tr's language from the command line and the environment.
func setLanguage(args []string) {
	tr = i18n.New(i18n.Choose(langArg(args), i18n.OS()))
}

// langArg is the value of --lang in args (before a "--"), or "".
func langArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--lang="); ok {
			return v
		}
		if a == "--lang" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// errorT is an error a person reads in their language (its Error() is English).
func errorT(key string, args ...any) error { return i18n.Errorf(key, args...) }

// wrapT is errorT with a cause, for errors.Is and errors.As.
func wrapT(err error, key string, args ...any) error {
	e := i18n.Errorf(key, args...)
	e.Err = err
	return e
}

// usageErrorT is usageErrorf in the person's language.
func usageErrorT(key string, args ...any) error {
	return &cliError{code: ExitUsage, err: i18n.Errorf(key, args...)}
}

// withCodeT is withCode with a hint in the person's language.
func withCodeT(code int, err error, hintKey string, args ...any) error {
	if err == nil {
		return nil
	}
	m := i18n.M(hintKey, args...)
	return &cliError{code: code, err: err, hint: m.In(english), hintMsg: &m}
}

// hintIn is err's hint, in p's language when it has one.
func hintIn(err error, p *i18n.Printer) string {
	var ce *cliError
	if errors.As(err, &ce) && ce.hintMsg != nil {
		return ce.hintMsg.In(p)
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// describeError is err for the person: the first message of the catalogue in its chain,
// in their language; else, for a few errors of the packages below, the catalogue's
// words for them; else err's English text.
func describeError(err error) string {
	var ie *i18n.Error
	if errors.As(err, &ie) || tr.Lang() == "en" {
		return tr.Error(err)
	}
	var le *repo.LockedError
	switch {
	case errors.As(err, &le):
		return tr.T("cli.err.locked")
	case errors.Is(err, repo.ErrWrongPassword):
		return tr.T("cli.err.wrong_password")
	case errors.Is(err, repo.ErrNoRepository):
		return tr.T("cli.err.no_repository")
	case errors.Is(err, repo.ErrNoRoom):
		return tr.T("cli.err.no_room")
	case errors.Is(err, luks.ErrWrongPassphrase):
		return tr.T("cli.unlock.wrong")
	case errors.Is(err, os.ErrPermission):
		return tr.T("cli.err.permission", err.Error())
	case errors.Is(err, os.ErrNotExist):
		return tr.T("cli.err.not_found", err.Error())
	}
	return err.Error()
}

// prose escapes what could control the terminal in text for the person (termsafe.Text:
// names from a drive or a repository may be inside), but keeps the zero-width non-joiner
// and joiner, which Persian writes with every day and which control nothing.
func prose(s string) string { return joiners.Replace(termsafe.Text(s)) }

var joiners = strings.NewReplacer(`\u200c`, "\u200c", `\u200d`, "\u200d")
