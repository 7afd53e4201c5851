package target

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parsePlist decodes the XML property lists that macOS's diskutil prints into
// map[string]any, []any, string, int64 and bool values.
func parsePlist(data []byte) (any, error) {
	d := xml.NewDecoder(strings.NewReader(string(data)))
	d.Strict = false
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("plist: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local != "plist" {
			return plistValue(d, se, 0)
		}
	}
}

func plistValue(d *xml.Decoder, se xml.StartElement, depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("plist: nested too deeply")
	}
	switch se.Name.Local {
	case "dict":
		m := map[string]any{}
		var key string
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				if t.Name.Local == "key" {
					var s string
					if err := d.DecodeElement(&s, &t); err != nil {
						return nil, err
					}
					key = s
					continue
				}
				v, err := plistValue(d, t, depth+1)
				if err != nil {
					return nil, err
				}
				m[key] = v
			case xml.EndElement:
				return m, nil
			}
		}
	case "array":
		var a []any
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				v, err := plistValue(d, t, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			case xml.EndElement:
				return a, nil
			}
		}
	case "true", "false":
		d.Skip()
		return se.Name.Local == "true", nil
	case "integer":
		var s string
		if err := d.DecodeElement(&s, &se); err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("plist integer %q", s)
		}
		return n, nil
	default: // string, data, date, real
		var s string
		if err := d.DecodeElement(&s, &se); err != nil && err != io.EOF {
			return nil, err
		}
		return s, nil
	}
}

func plistString(m map[string]any, k string) string { s, _ := m[k].(string); return s }
func plistInt(m map[string]any, k string) int64     { n, _ := m[k].(int64); return n }
func plistBool(m map[string]any, k string) bool     { b, _ := m[k].(bool); return b }
