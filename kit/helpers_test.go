package kit

import (
	"fmt"
	"html"
	"reflect"
	"regexp"
)

func reflectValue(m *messages) reflect.Value { return reflect.ValueOf(m).Elem() }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

var tagRE = regexp.MustCompile(`<[^>]*>`)

// htmlUnescape drops the tags of a page and unescapes its text, so that a command split by
// <bdi> or escaped (&amp;&amp;) reads as typed.
func htmlUnescape(s string) string { return html.UnescapeString(tagRE.ReplaceAllString(s, "")) }
