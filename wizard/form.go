package wizard

import (
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// Bounds on what a page may send: the forms are small, a colleague's key file is a few
// hundred bytes (a post-quantum one a few KiB).
const (
	maxBody  = 1 << 20
	maxField = 64 << 10
	maxParts = 64
)

// form is a posted form read into byte slices, so that the secrets in it (a passphrase,
// a colleague's key file) can be cleared once used: Go strings cannot be.
type form struct {
	fields map[string][][]byte
	files  []upload
}

type upload struct {
	name string
	data []byte
}

var errForm = errors.New("the page sent a form travelkit cannot read")

// readForm reads a multipart/form-data or application/x-www-form-urlencoded body.
func readForm(w http.ResponseWriter, r *http.Request) (*form, error) {
	f := &form{fields: map[string][][]byte{}}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, errForm
	}
	switch ct {
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, errForm
		}
		mr := multipart.NewReader(body, params["boundary"])
		for i := 0; ; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				return f, nil
			}
			if err != nil || i == maxParts {
				f.clear()
				return nil, errForm
			}
			b, err := io.ReadAll(io.LimitReader(p, maxField+1))
			if err != nil || len(b) > maxField {
				clear(b)
				f.clear()
				return nil, errForm
			}
			if p.FileName() != "" {
				f.files = append(f.files, upload{name: p.FileName(), data: b})
			} else if p.FormName() != "" && p.FileName() == "" {
				if _, isFile := p.Header["Content-Type"]; isFile && len(b) == 0 {
					continue // an empty file input
				}
				f.fields[p.FormName()] = append(f.fields[p.FormName()], b)
			}
		}
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(io.LimitReader(body, maxBody))
		if err != nil {
			return nil, errForm
		}
		defer clear(b)
		for _, kv := range strings.Split(string(b), "&") {
			// a secret typed into a urlencoded form (JavaScript off and an old browser)
			// passes through these strings; the multipart forms the pages send do not
			k, v, _ := strings.Cut(kv, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				f.clear()
				return nil, errForm
			}
			f.fields[k] = append(f.fields[k], []byte(v))
		}
		return f, nil
	}
	return nil, errForm
}

// get is the first value of a field, as text ("" when absent). Not for secrets.
func (f *form) get(name string) string {
	if v := f.fields[name]; len(v) > 0 {
		return string(v[0])
	}
	return ""
}

// all are every value of a field, as text. Not for secrets.
func (f *form) all(name string) []string {
	var out []string
	for _, v := range f.fields[name] {
		out = append(out, string(v))
	}
	return out
}

// secret is the first value of a field, as bytes the caller must clear (the form's own
// copy is cleared by clear).
func (f *form) secret(name string) []byte {
	if v := f.fields[name]; len(v) > 0 {
		return append([]byte(nil), v[0]...)
	}
	return nil
}

// clear overwrites every value and file the form holds.
func (f *form) clear() {
	for _, vs := range f.fields {
		for _, v := range vs {
			clear(v)
		}
	}
	for _, u := range f.files {
		clear(u.data)
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
