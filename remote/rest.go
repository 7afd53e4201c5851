package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"travelkit/repo"
)

// restStorage speaks restic's REST protocol, version 2, to a rest-server (or anything
// that serves it, such as rclone serve restic).
type restStorage struct {
	loc    Location
	base   *url.URL
	client *http.Client
	user   string
	pass   string
	opt    Options
}

const restV2 = "application/vnd.x.restic.rest.v2"

func openREST(ctx context.Context, loc Location, cred *Credentials, opt Options) (*restStorage, error) {
	tr, err := httpTransport(cred, opt.Connections)
	if err != nil {
		return nil, err
	}
	scheme := "https"
	if loc.HTTP {
		scheme = "http"
	}
	s := &restStorage{
		loc:    loc,
		base:   &url.URL{Scheme: scheme, Host: loc.Host, Path: loc.RESTPath + "/"},
		client: &http.Client{Transport: tr},
		user:   loc.User,
		pass:   cred.Password,
		opt:    opt,
	}
	if cred.Username != "" && s.user == "" {
		s.user = cred.Username
	}
	// a first request shows wrong credentials, a wrong address or a bad certificate now
	if _, err := s.Stat(ctx, repo.Handle{Type: repo.ConfigFile}); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return s, nil
}

func (s *restStorage) Location() Location { return s.loc }
func (s *restStorage) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

func (s *restStorage) url(h repo.Handle) string {
	u := *s.base
	switch {
	case h.Type == repo.ConfigFile:
		u.Path += "config"
	case h.Name == "":
		u.Path += string(h.Type) + "/"
	default:
		u.Path += string(h.Type) + "/" + h.Name
	}
	return u.String()
}

func (s *restStorage) do(ctx context.Context, method, u string, body io.Reader, size int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Accept", restV2)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if s.user != "" || s.pass != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unreachable(s.loc.Host, err)
	}
	return resp, nil
}

// status turns a failed response into one of the package's errors. It closes the body.
func (s *restStorage) status(op string, h repo.Handle, resp *http.Response) error {
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := printable(string(msg))
	what := fmt.Sprintf("%s %s on %s", op, h, s.loc.Host)
	if h.Type == "" {
		what = fmt.Sprintf("%s on %s", op, s.loc.Host)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s: HTTP %d (give the REST user in RESTIC_REST_USERNAME and the password in RESTIC_REST_PASSWORD, or let travelkit ask)", ErrAuth, what, code)
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: %w", what, fs.ErrNotExist)
	case code == http.StatusForbidden:
		return fmt.Errorf("%w: %s: HTTP 403 (an append-only server refuses deletions and overwrites) %s", ErrRefused, what, text)
	case code == http.StatusInsufficientStorage || code == http.StatusRequestEntityTooLarge ||
		strings.Contains(strings.ToLower(text), "no space left"):
		return fmt.Errorf("%w: %s: HTTP %d %s", ErrNoSpace, what, code, text)
	case code >= 500:
		return fmt.Errorf("%w: %s: HTTP %d %s", errTransient, what, code, text)
	}
	return fmt.Errorf("%s: HTTP %d %s", what, resp.StatusCode, text)
}

// printable keeps a server's message to one line of printable characters.
func printable(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
}

// Create makes the repository's folders on the server (POST /?create=true).
func (s *restStorage) Create(ctx context.Context) error {
	u := *s.base
	u.RawQuery = "create=true"
	resp, err := s.do(ctx, http.MethodPost, u.String(), nil, 0, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return s.status("creating the repository", repo.Handle{}, resp)
	}
	resp.Body.Close()
	return nil
}

// Save uploads a file. rest-server writes it to a temporary file, checks its sha256
// against the name and renames it into place.
func (s *restStorage) Save(ctx context.Context, h repo.Handle, data []byte) error {
	if err := validHandle(h); err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodPost, s.url(h), newBody(ctx, data, s.opt), int64(len(data)), nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return s.status("saving", h, resp)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil
}

// Load reads n bytes at off (n <= 0: to the end; off < 0: from the end).
func (s *restStorage) Load(ctx context.Context, h repo.Handle, off int64, n int) ([]byte, error) {
	if err := validHandle(h); err != nil {
		return nil, err
	}
	hdr := map[string]string{}
	switch {
	case off < 0 && n <= 0:
		hdr["Range"] = fmt.Sprintf("bytes=%d", off)
	case off < 0:
		size, err := s.Stat(ctx, h)
		if err != nil {
			return nil, err
		}
		off = max(0, size+off)
		fallthrough
	case n > 0:
		hdr["Range"] = fmt.Sprintf("bytes=%d-%d", off, off+int64(n)-1)
	case off > 0:
		hdr["Range"] = fmt.Sprintf("bytes=%d-", off)
	}
	resp, err := s.do(ctx, http.MethodGet, s.url(h), nil, 0, hdr)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return nil, s.status("reading", h, resp)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && (off != 0 || n > 0) {
		// the server ignored the range: skip to it
		if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
			return nil, fmt.Errorf("reading %s on %s: %w: %v", h, s.loc.Host, errTransient, err)
		}
	}
	limit := int64(maxLoad)
	if n > 0 {
		limit = int64(n)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s on %s: %w: %v", h, s.loc.Host, errTransient, err)
	}
	if int64(len(b)) > limit {
		if n > 0 {
			b = b[:n]
		} else {
			return nil, fmt.Errorf("reading %s on %s: larger than a repository file may be", h, s.loc.Host)
		}
	}
	if n > 0 && len(b) < n {
		return nil, fmt.Errorf("reading %s on %s: %w (%d of %d bytes)", h, s.loc.Host, io.ErrUnexpectedEOF, len(b), n)
	}
	return b, nil
}

// ReadAt reads len(p) bytes at off.
func (s *restStorage) ReadAt(ctx context.Context, h repo.Handle, p []byte, off int64) error {
	return loadAt(ctx, s.Load, h, p, off)
}

// Sum streams a file through sha256.
func (s *restStorage) Sum(ctx context.Context, h repo.Handle) ([32]byte, int64, error) {
	if err := validHandle(h); err != nil {
		return [32]byte{}, 0, err
	}
	resp, err := s.do(ctx, http.MethodGet, s.url(h), nil, 0, nil)
	if err != nil {
		return [32]byte{}, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return [32]byte{}, 0, s.status("reading", h, resp)
	}
	defer resp.Body.Close()
	return sumStream(resp.Body, h, s.loc.Host)
}

// Stat returns the size of a file (HEAD).
func (s *restStorage) Stat(ctx context.Context, h repo.Handle) (int64, error) {
	if err := validHandle(h); err != nil {
		return 0, err
	}
	resp, err := s.do(ctx, http.MethodHead, s.url(h), nil, 0, nil)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, s.status("looking up", h, resp)
	}
	resp.Body.Close()
	if resp.ContentLength < 0 {
		return 0, fmt.Errorf("looking up %s on %s: the server gave no size", h, s.loc.Host)
	}
	return resp.ContentLength, nil
}

// maxList bounds a listing: about 600 000 files, a repository of 9 TiB in 16 MiB packs.
const maxList = 64 << 20

// List calls fn for every file of type t (GET /type/, version 2: names and sizes).
func (s *restStorage) List(ctx context.Context, t repo.FileType, fn func(string, int64) error) error {
	h := repo.Handle{Type: t}
	resp, err := s.do(ctx, http.MethodGet, s.url(h), nil, 0, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return s.status("listing", repo.Handle{Type: t, Name: "."}, resp)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, restV2) {
		return fmt.Errorf("listing %s on %s: the server does not speak the REST protocol version 2 (Content-Type %q)", t, s.loc.Host, printable(ct))
	}
	var list []struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxList))
	if err := dec.Decode(&list); err != nil {
		return fmt.Errorf("listing %s on %s: %w: %v", t, s.loc.Host, errTransient, err)
	}
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if validHandle(repo.Handle{Type: t, Name: e.Name}) != nil || e.Size < 0 {
			continue
		}
		if err := fn(e.Name, e.Size); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes a file; an append-only server refuses (ErrRefused).
func (s *restStorage) Remove(ctx context.Context, h repo.Handle) error {
	if err := validHandle(h); err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodDelete, s.url(h), nil, 0, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return s.status("removing", h, resp)
	}
	resp.Body.Close()
	return nil
}
