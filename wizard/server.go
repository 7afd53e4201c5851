package wizard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/repo"
)

// Options configure a wizard run.
type Options struct {
	// Lang is the starting language; "" chooses as i18n.Choose does.
	Lang string
	// Target is a kit image file or disk to use instead of looking for kit drives.
	Target string
	// Find looks for kit drives (default drive.Find).
	Find func() (found []drive.Found, needAdmin bool, err error)
	// System opens the browser and folders and relaunches travelkit with administrator
	// rights (default: this operating system's).
	System System
	// NoBrowser only prints the address.
	NoBrowser bool
	// Out receives the address (standard output).
	Out io.Writer
	// Home is the person's home folder: the default destination is Home/Restored
	// (default: os.UserHomeDir, or the one the unelevated copy handed over).
	Home string
	// Owner, in a copy relaunched with administrator rights on Unix, is the person who
	// started the wizard: what they restore and the folders made for it are theirs.
	Owner *repo.Owner
	// Handoff, in a relaunched copy, is the folder the unelevated copy waits on: the
	// address of this copy is written there as the file "url".
	Handoff string
	// AllowWeak lets a new passphrase below the strength floor through.
	AllowWeak bool
	// Exe is the program to relaunch with administrator rights (default os.Executable).
	Exe string
	// Idle stops the wizard after this long without a request and with no restore
	// running (default 15 minutes); PageGone after this long without the page's
	// heartbeat, once it sent one (default 3 minutes: browsers slow down the timers of
	// pages in the background to one a minute); ByeGrace is how long a page that said
	// goodbye has to come back (a reload or the next step) before the wizard stops
	// (default 10 seconds).
	Idle, PageGone, ByeGrace time.Duration
	// Version is travelkit's version, shown in the footer.
	Version string
	// Listening, when set, is called with the address (with its token) once the server
	// listens (tests).
	Listening func(url string)
}

// Run serves the wizard until the person closes it, closes the page, leaves it idle, or
// ctx ends. The kit is closed and the secrets it held cleared before it returns.
func Run(ctx context.Context, o Options) error {
	if o.Find == nil {
		o.Find = drive.Find
	}
	if o.System == nil {
		o.System = OS()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Idle == 0 {
		o.Idle = 15 * time.Minute
	}
	if o.PageGone == 0 {
		o.PageGone = 3 * time.Minute
	}
	if o.ByeGrace == 0 {
		o.ByeGrace = 10 * time.Second
	}
	if o.Home == "" {
		o.Home, _ = os.UserHomeDir()
	}
	if o.Exe == "" {
		o.Exe, _ = os.Executable()
	}
	if o.Lang == "" {
		o.Lang = i18n.Choose("", i18n.OS())
	}
	s, err := newServer(o)
	if err != nil {
		return err
	}
	return s.serve(ctx)
}

type server struct {
	o       Options
	ln      net.Listener
	host    string // 127.0.0.1:PORT, the only Host accepted
	origin  string // http://127.0.0.1:PORT, the only Origin accepted
	token   string // one-time, in the first URL's path
	session string // the cookie's value once the token was used
	cookie  string // the cookie's name (ports share cookies: the name carries the port)

	mu        sync.Mutex
	tokenUsed bool
	lastSeen  time.Time // last authenticated request
	heartbeat time.Time // last heartbeat; zero until the page sent one
	bye       time.Time // when the page said goodbye; zero when it came back
	st        *state

	quit     chan struct{}
	quitOnce sync.Once
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func newServer(o Options) (*server, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the wizard's server on 127.0.0.1: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s := &server{o: o, ln: ln, quit: make(chan struct{}), lastSeen: time.Now()}
	s.host = fmt.Sprintf("127.0.0.1:%d", port)
	s.origin = "http://" + s.host
	s.cookie = fmt.Sprintf("travelkit-%d", port)
	if s.token, err = randomHex(32); err == nil {
		s.session, err = randomHex(32)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.st = newState(s)
	return s, nil
}

// URL is the address to open: it carries the one-time token.
func (s *server) URL() string { return s.origin + "/t/" + s.token }

func (s *server) serve(ctx context.Context) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          nil,
	}
	// the standard library logs odd requests to stderr; nothing of a request is logged
	hs.ErrorLog = discardLog()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.ln) }()
	url := s.URL()
	p := i18n.New(s.o.Lang)
	if s.o.Handoff != "" {
		if err := writeHandoff(s.o.Handoff, url); err != nil {
			hs.Close()
			return err
		}
	} else {
		fmt.Fprintln(s.o.Out, p.T("wizard.cli.open"))
		fmt.Fprintln(s.o.Out, "    "+url)
		fmt.Fprintln(s.o.Out, p.T("wizard.cli.stop"))
		if !s.o.NoBrowser {
			if err := s.o.System.OpenURL(url); err != nil {
				fmt.Fprintln(s.o.Out, p.T("wizard.cli.nobrowser"))
			}
		}
	}
	if s.o.Listening != nil {
		s.o.Listening(url)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.watch(ctx)
	select {
	case <-ctx.Done():
	case <-s.quit:
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			s.st.close()
			return err
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	hs.Shutdown(sctx) // requests in flight get 3 seconds; the kit is closed after
	scancel()
	hs.Close()
	err := s.st.close()
	s.st.waitElevation()
	fmt.Fprintln(s.o.Out, p.T("wizard.cli.stopped"))
	return err
}

// stop ends the wizard (once).
func (s *server) stop() { s.quitOnce.Do(func() { close(s.quit) }) }

// watch stops the wizard when the page is gone or idle.
func (s *server) watch(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.quit:
			return
		case now := <-t.C:
			s.mu.Lock()
			last, hb, bye := s.lastSeen, s.heartbeat, s.bye
			s.mu.Unlock()
			busy := s.st.busy()
			switch {
			case !bye.IsZero() && now.Sub(bye) > s.o.ByeGrace:
				s.stop() // the page was closed (a restore in progress is stopped cleanly)
			case !hb.IsZero() && now.Sub(hb) > s.o.PageGone:
				s.stop() // the page stopped beating
			case !busy && now.Sub(last) > s.o.Idle:
				s.stop()
			}
		}
	}
}

// securityHeaders go on every response: only our own scripts and styles, no frames, forms
// only to ourselves, nothing cached, no referrer to another origin.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the
	// page's own form POSTs, which the Origin check must refuse. The token is never in a
	// page's address (it is exchanged and redirected at once), and nothing goes elsewhere.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// deny answers 403 with a short reason (no secret, nothing of the request).
func deny(w http.ResponseWriter, why string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	io.WriteString(w, "travelkit: "+why+"\n")
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	// DNS rebinding: a foreign name that resolves to 127.0.0.1 carries its own Host.
	if r.Host != s.host {
		deny(w, "wrong host")
		return
	}
	// Another site, or another local port, driving the browser: a foreign Origin. A POST
	// always carries one in the browsers the wizard supports.
	origin := r.Header.Get("Origin")
	if origin != "" && origin != s.origin {
		deny(w, "foreign origin")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && origin == "" {
		deny(w, "no origin")
		return
	}
	tokenPath := strings.HasPrefix(r.URL.Path, "/t/")
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	case "same-site":
		// the unprivileged copy hands the browser over to the elevated one, on another port:
		// the token's address, and the page it redirects to (a browser keeps "same-site" for
		// the whole redirect chain). Showing the page is harmless; nothing else is allowed.
		nav := r.Header.Get("Sec-Fetch-Mode")
		if !tokenPath && !(r.Method == http.MethodGet && r.URL.Path == "/" && nav == "navigate") {
			deny(w, "request from another page")
			return
		}
	default:
		deny(w, "request from another site")
		return
	}
	if tokenPath {
		s.exchange(w, r)
		return
	}
	c, err := r.Cookie(s.cookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session)) != 1 {
		deny(w, "open the address travelkit printed when it started")
		return
	}
	s.mu.Lock()
	s.lastSeen = time.Now()
	if r.URL.Path != "/bye" {
		s.bye = time.Time{}
	}
	s.mu.Unlock()
	s.route(w, r)
}

// exchange turns the one-time token into the session cookie.
func (s *server) exchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		deny(w, "method")
		return
	}
	tok := strings.TrimPrefix(r.URL.Path, "/t/")
	s.mu.Lock()
	ok := !s.tokenUsed && subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1
	if ok {
		s.tokenUsed = true
		s.lastSeen = time.Now()
	}
	s.mu.Unlock()
	if !ok {
		deny(w, "this address was used already, or is wrong: start travelkit again")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: s.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) route(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.st.page(w, r)
	case r.URL.Path == "/" && r.Method == http.MethodPost:
		s.st.action(w, r)
	case r.URL.Path == "/alive" && r.Method == http.MethodPost:
		s.mu.Lock()
		s.heartbeat = time.Now()
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/bye" && r.Method == http.MethodPost:
		s.mu.Lock()
		s.bye = time.Now()
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/progress" && r.Method == http.MethodGet:
		s.st.progressJSON(w)
	case r.URL.Path == "/elevated" && r.Method == http.MethodGet:
		s.st.elevatedJSON(w)
	case r.URL.Path == "/strength" && r.Method == http.MethodPost:
		s.st.strengthJSON(w, r)
	case strings.HasPrefix(r.URL.Path, "/static/") && r.Method == http.MethodGet:
		serveStatic(w, r)
	default:
		http.NotFound(w, r)
	}
}
