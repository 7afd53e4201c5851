package i18n

import (
	"strings"

	"golang.org/x/text/language"
)

// Languages are the kit's languages, in the order they are offered.
func Languages() []string { return []string{"en", "es", "fr", "ar", "ru", "fa"} }

// names are the languages in their own words.
var names = map[string]string{
	"en": "English", "es": "Español", "fr": "Français", "ar": "العربية", "ru": "Русский", "fa": "فارسی",
}

// Name is the language's name in that language ("Français").
func Name(lang string) string { return names[lang] }

// RTL reports whether the language is written right to left.
func RTL(lang string) bool { return lang == "ar" || lang == "fa" }

var matcher = func() language.Matcher {
	var tags []language.Tag
	for _, l := range Languages() {
		tags = append(tags, language.MustParse(l))
	}
	return language.NewMatcher(tags)
}()

// Match finds the kit language for a locale or language name as the environment and the
// operating systems give them: "fa", "fa_IR.UTF-8", "es-MX", "ru_RU@euro", "pt_BR". ok
// is false when none of the six fits (then lang is "en") or for "C" and "POSIX".
func Match(s string) (lang string, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i] // the encoding (.UTF-8) and modifier (@euro)
	}
	s = strings.ReplaceAll(s, "_", "-")
	if s == "" || s == "C" || s == "POSIX" {
		return "en", false
	}
	t, err := language.Parse(s)
	if err != nil {
		return "en", false
	}
	_, i, conf := matcher.Match(t)
	if conf < language.High {
		// language.Exact/High: the same language; below that only a guess ("pt" is not "es")
		return "en", false
	}
	return Languages()[i], true
}

// System is what Choose asks of the operating system: environment variables and the
// user's preferred languages (Windows: the display language settings; macOS: System
// Settings > Language & Region; elsewhere none).
type System interface {
	Getenv(key string) string
	UserLanguages() []string
}

// Choose picks the language: flag (--lang) when given, else the first of LANGUAGE (a
// colon-separated list, as GNU gettext reads it), LC_ALL, LC_MESSAGES and LANG that
// names one of the kit languages, else the operating system's preferred languages, else
// English. Like gettext, LANGUAGE counts only while the locale is not C or POSIX. A flag
// that names no kit language is the caller's error to report (see Match).
func Choose(flag string, sys System) string {
	if flag != "" {
		l, _ := Match(flag)
		return l
	}
	locale := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := sys.Getenv(k); v != "" {
			locale = v
			break
		}
	}
	if locale != "" && locale != "C" && locale != "POSIX" && !strings.HasPrefix(locale, "C.") {
		for _, v := range strings.Split(sys.Getenv("LANGUAGE"), ":") {
			if l, ok := Match(v); ok {
				return l
			}
		}
	}
	if l, ok := Match(locale); ok {
		return l
	}
	for _, v := range sys.UserLanguages() {
		if l, ok := Match(v); ok {
			return l
		}
	}
	return "en"
}
