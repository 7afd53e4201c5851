package profile

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/BurntSushi/toml"

	"travelkit/internal/bytesize"
)

// Error is one problem in a profile file, at a line when it has one.
type Error struct {
	File string
	Line int    // 1-based; 0 when the problem has no line (a missing key)
	Key  string // dotted key, "luks.sector_size"
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// keyPath names a key for finding its line; "[n]" segments pick entry n of an array of
// tables ("escrow", "[1]", "name").
type keyPath []string

func (k keyPath) entry(i int) keyPath {
	return append(keyPath{k[0], "[" + strconv.Itoa(i) + "]"}, k[1:]...)
}

// The schema: every key a profile may hold, by table ("" is the root).
var schema = map[string][]string{
	"":       {"name", "languages", "drive", "luks", "keys", "escrow", "tools", "tpm", "boot"},
	"drive":  {"tools_size"},
	"luks":   {"sector_size", "key_size", "pbkdf", "unlock_time", "pbkdf_memory_kib", "pbkdf_iterations", "pbkdf_parallel"},
	"keys":   {"recovery_key", "escrow_threshold"},
	"escrow": {"name", "recipient"},
	"tools":  {"platforms"},
	"tpm":    {"enroll", "pcrs", "pin"},
	"boot":   {"enable", "languages"},
}

type decoder struct {
	file string
	text string
	md   toml.MetaData
	raw  map[string]any
	errs []*Error
}

// Parse parses and validates a profile. file names it in errors ("profile.toml:7: ...").
// Every problem found is reported, one per line of the error, in the order of the file.
func Parse(file string, data []byte) (*Profile, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("more than %d bytes: not a profile (a profile is a small TOML file; see travelkit profile example)", MaxSize)}
	}
	text, err := utf8Text(data)
	if err != nil {
		return nil, &Error{File: file, Msg: err.Error()}
	}
	d := &decoder{file: file, text: text}
	md, err := toml.Decode(d.text, &d.raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: file, Line: pe.Position.Line, Msg: "bad TOML: " + pe.Message}
		}
		return nil, &Error{File: file, Msg: "bad TOML: " + err.Error()}
	}
	d.md = md
	p := New("")
	d.decode(p)
	if len(d.errs) == 0 {
		p.validate(func(at keyPath, key, msg string) { d.errorf(at, "%s: %s", key, msg) })
	}
	if len(d.errs) == 0 {
		return p, nil
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = e
	}
	return nil, errors.Join(errs...)
}

// utf8Text is a profile file's text. A file that starts with a UTF-16 byte order mark is
// read as UTF-16: Windows PowerShell 5.1, the one Windows 10 and 11 come with, writes
// `travelkit profile example > kit.toml` that way (with CRLF line ends), and TOML itself
// is UTF-8 only. UTF-8, with or without its mark, is taken as it is.
func utf8Text(data []byte) (string, error) {
	var order func(b []byte) uint16
	switch {
	case len(data) >= 2 && data[0] == 0xff && data[1] == 0xfe:
		order = func(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
	case len(data) >= 2 && data[0] == 0xfe && data[1] == 0xff:
		order = func(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
	default:
		return string(data), nil
	}
	if len(data)%2 != 0 {
		return "", errors.New("UTF-16 text (it starts with a UTF-16 byte order mark) with an odd number of bytes: " +
			"not a whole profile; save it again as UTF-8")
	}
	units := make([]uint16, 0, len(data)/2-1)
	for i := 2; i < len(data); i += 2 {
		units = append(units, order(data[i:]))
	}
	return string(utf16.Decode(units)), nil
}

func (d *decoder) errorf(at keyPath, format string, args ...any) {
	var key []string
	for _, k := range at {
		if !strings.HasPrefix(k, "[") {
			key = append(key, k)
		}
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: d.line(at), Key: strings.Join(key, "."), Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) decode(p *Profile) {
	root := d.raw
	d.unknown(root, "", nil)
	if v, ok := root["name"]; ok {
		d.str(keyPath{"name"}, v, &p.Name)
	} else {
		d.errs = append(d.errs, &Error{File: d.file, Key: "name", Msg: `missing required key "name" (the kit id, for example name = "amina-2026-12")`})
	}
	if v, ok := root["languages"]; ok {
		d.strs(keyPath{"languages"}, v, &p.Languages)
	}
	if t := d.table(root, "drive"); t != nil {
		if v, ok := t["tools_size"]; ok {
			at := keyPath{"drive", "tools_size"}
			switch v := v.(type) {
			case string:
				n, err := bytesize.Parse(v)
				if err != nil {
					d.errorf(at, "drive.tools_size: %v", err)
				}
				p.Drive.ToolsSize = n
			case int64:
				p.Drive.ToolsSize = v
				if v < 0 {
					d.errorf(at, "drive.tools_size: negative size")
				}
			default:
				d.errorf(at, "drive.tools_size: want a size like \"256MiB\" or a number of bytes, got %s", describe(v))
			}
		}
	}
	if t := d.table(root, "luks"); t != nil {
		d.int(t, keyPath{"luks", "sector_size"}, &p.LUKS.SectorSize)
		d.int(t, keyPath{"luks", "key_size"}, &p.LUKS.KeySize)
		if v, ok := t["pbkdf"]; ok {
			d.str(keyPath{"luks", "pbkdf"}, v, &p.LUKS.PBKDF)
		}
		if v, ok := t["unlock_time"]; ok {
			at := keyPath{"luks", "unlock_time"}
			var s string
			if d.str(at, v, &s) {
				dur, err := time.ParseDuration(s)
				if err != nil {
					d.errorf(at, "luks.unlock_time: %q is not a duration: write it like \"2s\" or \"1500ms\"", s)
				}
				p.LUKS.UnlockTime = dur
			}
		}
		d.uint32(t, keyPath{"luks", "pbkdf_memory_kib"}, &p.LUKS.PBKDFMemoryKiB)
		d.uint32(t, keyPath{"luks", "pbkdf_iterations"}, &p.LUKS.PBKDFIterations)
		d.uint32(t, keyPath{"luks", "pbkdf_parallel"}, &p.LUKS.PBKDFParallel)
	}
	if t := d.table(root, "keys"); t != nil {
		d.bool(t, keyPath{"keys", "recovery_key"}, &p.Keys.RecoveryKey)
		d.int(t, keyPath{"keys", "escrow_threshold"}, &p.Keys.EscrowThreshold)
	}
	if v, ok := root["escrow"]; ok {
		var entries []map[string]any
		switch v := v.(type) {
		case []map[string]any:
			entries = v
		case []any:
			for _, e := range v {
				m, ok := e.(map[string]any)
				if !ok {
					d.errorf(keyPath{"escrow"}, "escrow: want [[escrow]] tables with name and recipient, got an array holding %s", describe(e))
					entries = nil
					break
				}
				entries = append(entries, m)
			}
		default:
			d.errorf(keyPath{"escrow"}, "escrow: want [[escrow]] tables with name and recipient, got %s", describe(v))
		}
		for i, e := range entries {
			d.unknown(e, "escrow", keyPath{"escrow", "[" + strconv.Itoa(i) + "]"})
			var x Escrow
			for _, k := range []string{"name", "recipient"} {
				at := keyPath{"escrow", k}.entry(i)
				v, ok := e[k]
				if !ok {
					d.errorf(keyPath{"escrow"}.entry(i), "escrow entry %d: missing %s", i+1, k)
					continue
				}
				if k == "name" {
					d.str(at, v, &x.Name)
				} else {
					d.str(at, v, &x.Recipient)
				}
			}
			p.Escrow = append(p.Escrow, x)
		}
	}
	if t := d.table(root, "tools"); t != nil {
		if v, ok := t["platforms"]; ok {
			d.strs(keyPath{"tools", "platforms"}, v, &p.Tools.Platforms)
		}
	}
	if t := d.table(root, "boot"); t != nil {
		if _, ok := t["enable"]; ok {
			var on bool
			d.bool(t, keyPath{"boot", "enable"}, &on)
			p.Boot.Enable = &on
		}
		if v, ok := t["languages"]; ok {
			d.strs(keyPath{"boot", "languages"}, v, &p.Boot.Languages)
		}
	}
	if t := d.table(root, "tpm"); t != nil {
		d.bool(t, keyPath{"tpm", "enroll"}, &p.TPM.Enroll)
		d.bool(t, keyPath{"tpm", "pin"}, &p.TPM.PIN)
		if v, ok := t["pcrs"]; ok {
			at := keyPath{"tpm", "pcrs"}
			list, ok := v.([]any)
			if !ok {
				d.errorf(at, "tpm.pcrs: want a list of PCR numbers like [7], got %s", describe(v))
			} else {
				p.TPM.PCRs = []int{}
				for _, e := range list {
					n, ok := e.(int64)
					if !ok {
						d.errorf(at, "tpm.pcrs: want a list of PCR numbers like [7], got %s in it", describe(e))
						break
					}
					if n < -1<<31 || n > 1<<31-1 {
						n = -1
					}
					p.TPM.PCRs = append(p.TPM.PCRs, int(n))
				}
			}
		}
	}
}

// unknown reports every key of t that the schema does not know, with a suggestion.
func (d *decoder) unknown(t map[string]any, table string, at keyPath) {
	known := schema[table]
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(known, k) {
			continue
		}
		full := k
		if table != "" {
			full = table + "." + k
		}
		msg := fmt.Sprintf("unknown key %q", full)
		if s := suggest(k, known); s != "" {
			if table != "" {
				s = table + "." + s
			}
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		path := append(slices.Clone(at), k)
		if at == nil && table != "" {
			path = keyPath{table, k}
		}
		d.errs = append(d.errs, &Error{File: d.file, Line: d.line(path), Key: full, Msg: msg})
	}
}

// table returns root[name] as a table (nil when absent or not a table, which is reported).
func (d *decoder) table(root map[string]any, name string) map[string]any {
	v, ok := root[name]
	if !ok {
		return nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		d.errorf(keyPath{name}, "%s: want a table ([%s]), got %s", name, name, describe(v))
		return nil
	}
	d.unknown(t, name, nil)
	return t
}

func (d *decoder) str(at keyPath, v any, dst *string) bool {
	s, ok := v.(string)
	if !ok {
		d.errorf(at, "%s: want a string, got %s", dotted(at), describe(v))
		return false
	}
	*dst = s
	return true
}

func (d *decoder) strs(at keyPath, v any, dst *[]string) {
	list, ok := v.([]any)
	if !ok {
		d.errorf(at, "%s: want a list of strings, got %s", dotted(at), describe(v))
		return
	}
	out := []string{}
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			d.errorf(at, "%s: want a list of strings, got %s in it", dotted(at), describe(e))
			return
		}
		out = append(out, s)
	}
	*dst = out
}

// integer returns the integer at at when t has one there, from lo to hi; a value that
// is not an integer, or is out of that range (then note follows the error), is an error.
func (d *decoder) integer(t map[string]any, at keyPath, lo, hi int64, note string) (int64, bool) {
	v, ok := t[at[len(at)-1]]
	if !ok {
		return 0, false
	}
	n, ok := v.(int64)
	if !ok {
		d.errorf(at, "%s: want an integer, got %s", dotted(at), describe(v))
		return 0, false
	}
	if n < lo || n > hi {
		d.errorf(at, "%s: %d is out of range%s", dotted(at), n, note)
		return 0, false
	}
	return n, true
}

func (d *decoder) int(t map[string]any, at keyPath, dst *int) {
	if n, ok := d.integer(t, at, -1<<31, 1<<31-1, ""); ok {
		*dst = int(n)
	}
}

func (d *decoder) uint32(t map[string]any, at keyPath, dst *uint32) {
	if n, ok := d.integer(t, at, 1, 1<<32-1, " (leave it out to calibrate)"); ok {
		*dst = uint32(n)
	}
}

func (d *decoder) bool(t map[string]any, at keyPath, dst *bool) {
	v, ok := t[at[len(at)-1]]
	if !ok {
		return
	}
	b, ok := v.(bool)
	if !ok {
		d.errorf(at, "%s: want true or false, got %s", dotted(at), describe(v))
		return
	}
	*dst = b
}

func dotted(at keyPath) string {
	var key []string
	for _, k := range at {
		if !strings.HasPrefix(k, "[") {
			key = append(key, k)
		}
	}
	return strings.Join(key, ".")
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("the string %q", v)
	case int64:
		return fmt.Sprintf("the integer %d", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case []any:
		return "a list"
	case []map[string]any:
		return "an array of tables"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("a %T", v)
}

// suggest returns the known key closest to k, when it is a likely typo.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if dist := editDistance(strings.ToLower(k), c); dist < bestD {
			best, bestD = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Finding lines. BurntSushi/toml records the position of every key but exports it only
// through a ParseError from a value that fails to decode. So to find the line of a key, the
// text is decoded again into a type built for that key alone, whose innermost value always
// fails: the error carries the key's position. In an array of tables the library keeps the
// position of the last entry only; for entry i the text is first cut just before the
// header of entry i+1, which leaves entry i the last.

type probe struct{}

var errProbe = errors.New("probe")

func (probe) UnmarshalTOML(any) error { return errProbe }

// line returns the line of a key, or 0 when it cannot be found.
func (d *decoder) line(at keyPath) int {
	text := d.text
	var keys []string
	slice := -1
	for _, k := range at {
		if strings.HasPrefix(k, "[") {
			n, err := strconv.Atoi(strings.Trim(k, "[]"))
			if err != nil || len(keys) != 1 {
				return 0
			}
			if entries, ok := d.raw[keys[0]].([]map[string]any); ok && d.md.Type(keys[0]) == "ArrayHash" {
				for j := len(entries) - 1; j > n; j-- {
					ln := probeLine(text, []string{keys[0]}, false)
					if ln <= 1 {
						return 0
					}
					text = cutBeforeLine(text, ln)
				}
			}
			slice = 0
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return 0
	}
	return probeLine(text, keys, slice == 0 && len(keys) > 1)
}

func cutBeforeLine(text string, line int) string {
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return text
		}
		off += j + 1
	}
	return text[:off]
}

// probeLine decodes text into a type that reaches keys and fails there. With firstIsArray,
// keys[0] is an array of tables and the rest is looked up in its entries.
func probeLine(text string, keys []string, firstIsArray bool) (line int) {
	defer func() {
		if recover() != nil { // a key the reflect package refuses as a tag: no line
			line = 0
		}
	}()
	t := reflect.TypeOf(probe{})
	for i := len(keys) - 1; i >= 0; i-- {
		if strings.ContainsAny(keys[i], ",\"`\\") {
			return 0
		}
		t = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: t,
			Tag:  reflect.StructTag(`toml:"` + keys[i] + `"`),
		}})
		if i == 1 && firstIsArray {
			t = reflect.SliceOf(t)
		}
	}
	_, err := toml.Decode(text, reflect.New(t).Interface())
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == errProbe.Error() {
		return pe.Position.Line
	}
	return 0
}
