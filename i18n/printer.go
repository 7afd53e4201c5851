package i18n

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Printer writes messages in one language. It is safe for concurrent use.
type Printer struct {
	lang string
	// the catalogue, read on first use (New is free: a command that prints nothing
	// translated, as --version or --json, never parses a catalogue file)
	once   sync.Once
	p      *message.Printer
	has    map[string]entry
	dollar map[string]string
}

// New returns a Printer for lang (one of Languages, or anything Match understands;
// English otherwise).
func New(lang string) *Printer {
	l, ok := Match(lang)
	if !ok {
		l = "en"
	}
	return &Printer{lang: l}
}

// load reads the printer's catalogue (en.toml and its language's) the first time.
func (p *Printer) load() {
	p.once.Do(func() {
		en, err := langCat("en")
		c := en
		if err == nil && p.lang != "en" {
			c, err = langCat(p.lang)
		}
		if err != nil {
			// The files are embedded and checked by TestCatalogue: this is a broken build.
			panic("i18n: " + err.Error())
		}
		p.p = message.NewPrinter(language.MustParse(p.lang), message.Catalog(c.builder))
		p.has, p.dollar = en.entries, c.dollar
	})
}

// Lang is the printer's language ("fa").
func (p *Printer) Lang() string { return p.lang }

// Dir is the HTML direction of the language: "rtl" or "ltr".
func (p *Printer) Dir() string {
	if RTL(p.lang) {
		return "rtl"
	}
	return "ltr"
}

// Has reports whether the catalogue has the key.
func (p *Printer) Has(key string) bool {
	p.load()
	_, ok := p.has[key]
	return ok
}

// T is the message key in the printer's language, with its placeholders filled from
// args (fmt verbs; numbers are written the language's way; an argument that is a
// Message is written in the printer's language too). An unknown key is returned as it is.
func (p *Printer) T(key string, args ...any) string {
	if !p.Has(key) {
		return key
	}
	for i, a := range args {
		if m, ok := a.(Message); ok {
			args = append([]any(nil), args...)
			args[i] = m.In(p)
		}
	}
	if text, ok := p.dollar[key]; ok {
		return fmt.Sprintf(text, args...)
	}
	return p.p.Sprintf(key, args...)
}

// HTML is T for an HTML page: the message is escaped, and every argument that is not a
// number is escaped and isolated in <bdi> (its own direction: a Latin name in Arabic text
// keeps its order, and an Arabic name in English text).
func (p *Printer) HTML(key string, args ...any) template.HTML {
	if !p.Has(key) {
		return template.HTML(html.EscapeString(key))
	}
	// Text arguments are replaced by markers from the private use area, which neither the
	// escaping nor the formatting changes, and put back escaped after.
	marked := make([]any, len(args))
	var texts []string
	for i, a := range args {
		switch a.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
			marked[i] = a
		default:
			marked[i] = marker(len(texts))
			texts = append(texts, fmt.Sprint(a))
		}
	}
	s := html.EscapeString(p.p.Sprintf(key, marked...))
	for i, t := range texts {
		s = strings.ReplaceAll(s, marker(i), "<bdi>"+html.EscapeString(t)+"</bdi>")
	}
	return template.HTML(s)
}

func marker(i int) string { return "\ue000" + strconv.Itoa(i) + "\ue001" }

// Message is a message key and its arguments, written out later in whatever language the
// face (wizard, CLI, menu) speaks.
type Message struct {
	Key  string
	Args []any
}

// M makes a Message.
func M(key string, args ...any) Message { return Message{Key: key, Args: args} }

// In writes the message in p's language.
func (m Message) In(p *Printer) string { return p.T(m.Key, m.Args...) }

// Error is an error that a person may read: its Error() is the English text (for logs,
// scripts and wrapped errors), and a face writes it in its language with Printer.Error.
type Error struct {
	Message
	Err error // the cause, if any, for errors.Is/As
}

// Errorf makes an Error from a key and its arguments.
func Errorf(key string, args ...any) *Error { return &Error{Message: M(key, args...)} }

func (e *Error) Error() string { return e.In(english()) }

func (e *Error) Unwrap() error { return e.Err }

var english = sync.OnceValue(func() *Printer { return New("en") })

// Error writes err for a person: the first *Error in its chain in p's language, else
// err.Error() as it is.
func (p *Printer) Error(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.In(p)
	}
	return err.Error()
}
