package wizard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"travelkit/drive"
)

// fakeSystem records what the wizard asks of the operating system.
type fakeSystem struct {
	mu       sync.Mutex
	urls     []string
	folders  []string
	method   Method
	noElev   error
	elevate  func(ctx context.Context, exe string, args []string) error
	elevated [][]string
}

func (f *fakeSystem) OpenURL(u string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls = append(f.urls, u)
	return nil
}

func (f *fakeSystem) OpenFolder(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.folders = append(f.folders, dir)
	return nil
}

func (f *fakeSystem) Elevation() (Method, error) {
	if f.noElev != nil {
		return "", f.noElev
	}
	if f.method == "" {
		return MethodPkexec, nil
	}
	return f.method, nil
}

func (f *fakeSystem) Elevate(ctx context.Context, exe string, args []string) error {
	f.mu.Lock()
	f.elevated = append(f.elevated, append([]string{exe}, args...))
	el := f.elevate
	f.mu.Unlock()
	if el == nil {
		return ErrRefused
	}
	return el(ctx, exe, args)
}

func (f *fakeSystem) openedFolders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.folders...)
}

// running is a wizard started by a test.
type running struct {
	t      *testing.T
	url    string // with the token
	origin string
	done   chan error
	cancel context.CancelFunc
	sys    *fakeSystem
	c      *http.Client
}

func startWizard(t *testing.T, o Options) *running {
	t.Helper()
	sys, _ := o.System.(*fakeSystem)
	if sys == nil {
		sys = &fakeSystem{}
		o.System = sys
	}
	o.NoBrowser = true
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Home == "" {
		o.Home = t.TempDir()
	}
	if o.Find == nil {
		o.Find = func() ([]drive.Found, bool, error) { return nil, false, nil }
	}
	urlc := make(chan string, 1)
	o.Listening = func(u string) { urlc <- u }
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, done: make(chan error, 1), cancel: cancel, sys: sys}
	go func() { r.done <- Run(ctx, o) }()
	select {
	case r.url = <-urlc:
	case err := <-r.done:
		t.Fatalf("the wizard ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the wizard did not start")
	}
	u, _ := url.Parse(r.url)
	r.origin = u.Scheme + "://" + u.Host
	jar, _ := cookiejar.New(nil)
	r.c = &http.Client{Jar: jar, Transport: originTransport{origin: r.origin}}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("the wizard did not stop")
		}
	})
	return r
}

// originTransport sends the Origin a browser sends with a POST from the page.
type originTransport struct{ origin string }

func (o originTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.Header.Get("Origin") == "" {
		r.Header.Set("Origin", o.origin)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// open exchanges the token for the session cookie.
func (r *running) open() {
	r.t.Helper()
	resp, err := r.c.Get(r.url)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		r.t.Fatalf("opening the wizard: %s", resp.Status)
	}
}

// page gets the current page.
func (r *running) page() string {
	r.t.Helper()
	resp, err := r.c.Get(r.origin + "/")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		r.t.Fatalf("GET /: %s %s", resp.Status, b)
	}
	return string(b)
}

// post submits a form as the page does (multipart), with files, and returns the page it
// leads to.
func (r *running) post(fields map[string][]string, files map[string][]byte) string {
	r.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		w, _ := mw.CreateFormFile("files", name)
		w.Write(data)
	}
	mw.Close()
	resp, err := r.c.Post(r.origin+"/", mw.FormDataContentType(), &b)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		r.t.Fatalf("POST %v: %s %s", fields["do"], resp.Status, body)
	}
	return string(body)
}

func (r *running) do(action string, kv ...string) string {
	f := map[string][]string{"do": {action}}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = append(f[kv[i]], kv[i+1])
	}
	return r.post(f, nil)
}

func mustContain(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Fatalf("the page lacks %q:\n%s", w, page)
		}
	}
}

// Every attack on the local server the issue names, and a few more, is refused; the
// right requests pass.
func TestSecurity(t *testing.T) {
	w := startWizard(t, Options{Lang: "en"})
	u, _ := url.Parse(w.url)
	token := strings.TrimPrefix(u.Path, "/t/")
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req := func(method, path string, hdr map[string]string, cookie *http.Cookie) *http.Response {
		t.Helper()
		r, _ := http.NewRequest(method, w.origin+path, strings.NewReader(""))
		for k, v := range hdr {
			if k == "Host" {
				r.Host = v
			} else {
				r.Header.Set(k, v)
			}
		}
		if cookie != nil {
			r.AddCookie(cookie)
		}
		resp, err := raw.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// on every answer: the policy, and never a CORS permission
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s %s: Content-Security-Policy %q", method, path, csp)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s %s: CORS header %s", method, path, k)
			}
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "same-origin" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s: headers %v", method, path, resp.Header)
		}
		return resp
	}
	expect := func(resp *http.Response, code int, what string) {
		t.Helper()
		if resp.StatusCode != code {
			t.Errorf("%s: %d, want %d", what, resp.StatusCode, code)
		}
	}
	// before the token: nothing without the session
	expect(req("GET", "/", nil, nil), 403, "no token, no cookie")
	expect(req("GET", "/static/wizard.js", nil, nil), 403, "the script without the session")
	// DNS rebinding: the browser sends the attacker's name as Host
	expect(req("GET", u.Path, map[string]string{"Host": "evil.example:" + u.Port()}, nil), 403, "wrong Host")
	expect(req("GET", u.Path, map[string]string{"Host": "localhost:" + u.Port()}, nil), 403, "Host localhost")
	// another site, another local port
	expect(req("GET", u.Path, map[string]string{"Origin": "http://evil.example"}, nil), 403, "foreign Origin")
	expect(req("GET", u.Path, map[string]string{"Origin": "http://127.0.0.1:1"}, nil), 403, "another port's Origin")
	expect(req("GET", u.Path, map[string]string{"Sec-Fetch-Site": "cross-site"}, nil), 403, "cross-site fetch")
	// a wrong token
	expect(req("GET", "/t/"+strings.Repeat("0", len(token)), nil, nil), 403, "wrong token")
	// none of these used up the token: the right request gets the cookie
	resp := req("GET", u.Path, map[string]string{"Sec-Fetch-Site": "none"}, nil)
	expect(resp, 303, "the token")
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		session = c
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Value == token || session.Path != "/" {
		t.Fatalf("session cookie %+v", session)
	}
	if raw := resp.Header.Get("Set-Cookie"); !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Strict") {
		t.Errorf("Set-Cookie %q", raw)
	}
	// replayed token
	expect(req("GET", u.Path, nil, nil), 403, "replayed token")
	// the session works, but only from the right Host and Origin
	expect(req("GET", "/", nil, session), 200, "the page with the cookie")
	expect(req("GET", "/", map[string]string{"Host": "evil.example:" + u.Port()}, session), 403, "wrong Host with the cookie")
	expect(req("GET", "/", map[string]string{"Sec-Fetch-Site": "same-site"}, session), 403, "another local port's page")
	expect(req("GET", "/", map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"}, session), 403, "another local port's fetch")
	expect(req("GET", "/progress", map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}, session), 403, "another local port navigating to data")
	expect(req("POST", "/", nil, session), 403, "a POST without Origin")
	expect(req("POST", "/", map[string]string{"Origin": "http://evil.example"}, session), 403, "a POST from another site")
	expect(req("POST", "/", map[string]string{"Origin": "null"}, session), 403, "a POST from a sandboxed page")
	expect(req("OPTIONS", "/", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, session), 403, "a CORS preflight")
	bad := *session
	bad.Value = strings.Repeat("a", len(session.Value))
	expect(req("GET", "/", nil, &bad), 403, "a forged cookie")
	expect(req("POST", "/alive", map[string]string{"Origin": w.origin}, session), 204, "the heartbeat")
}

// The page has no inline code for the policy to block, and secrets go only into forms
// that POST (never a GET form, never a link).
func TestPageNeedsNoInlineCode(t *testing.T) {
	b, err := os.ReadFile("web/page.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, re := range []string{`<script(?:\s[^>]*)?>\s*[^<\s]`, `\sstyle=`, `\son[a-z]+=`, `javascript:`, `method="get"`, `https?://`} {
		if m := regexp.MustCompile(re).FindString(s); m != "" {
			t.Errorf("the page template has %q (%s)", m, re)
		}
	}
	if n, m := strings.Count(s, "<form"), strings.Count(s, `<form method="post" enctype="multipart/form-data"`); n != m {
		t.Errorf("%d forms, %d of them multipart POST", n, m)
	}
}

// The whole way, as the page's forms post: wrong passphrase, the recovery key (typed in
// small letters with spaces), some folders, a new folder; the restored tree is the
// snapshot's; the folder is shown; the kit is closed at the end.
func TestRestoreByForms(t *testing.T) {
	dir := t.TempDir()
	k := newTestKit(t, dir)
	home := filepath.Join(dir, "person")
	w := startWizard(t, Options{Lang: "en", Target: k.img, Home: home})
	w.open()
	mustContain(t, w.page(), "Choose your language", `lang="ar"`)
	p := w.do("lang", "lang", "en")
	mustContain(t, p, "Step 2 of 8", "amina-2026", "every program and file on it is as it was")
	p = w.do("kit.use")
	mustContain(t, p, "Unlock your kit", "use my colleagues")
	p = w.do("unlock.secret", "secret", "wrong passphrase")
	mustContain(t, p, "That does not unlock this kit", "(Tries: 1)")
	typed := strings.ToLower(strings.ReplaceAll(k.recovery, "-", " "))
	p = w.do("unlock.secret", "secret", typed)
	mustContain(t, p, "Choose a snapshot", "3 November 2026, 14:05", "amina-laptop")
	m := regexp.MustCompile(`name="id" value="([0-9a-f]{64})"`).FindStringSubmatch(p)
	if m == nil {
		t.Fatalf("no snapshot on the page:\n%s", p)
	}
	p = w.do("snap.pick", "id", m[1])
	mustContain(t, p, "What do you want back?", "Only some folders")
	p = w.do("what.some")
	mustContain(t, p, `value="`+filepathToSnapshot(k.src)+`/Documents"`, "Letters", "Folders inside")
	p = w.do("what.pick", "include", filepathToSnapshot(k.src)+"/Documents", "include", filepathToSnapshot(k.src)+"/Letters", "include", "/etc")
	mustContain(t, p, "Where should your files go?", filepath.Join(home, "Restored"))
	p = w.do("where.start", "dest", filepath.Join(home, "Restored"))
	p = waitDone(t, w)
	mustContain(t, p, "Your files are back", "files (", "On a computer that is not yours", "Forgot your passphrase?")
	sameTree(t, k.src, filepath.Join(home, "Restored"), "Documents", "Letters")
	w.do("done.open")
	if got := w.sys.openedFolders(); len(got) != 1 || got[0] != filepath.Join(home, "Restored") {
		t.Errorf("opened folders %v", got)
	}
	w.do("quit")
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the wizard did not stop after Close")
	}
	w.done <- nil // for the cleanup
}

func filepathToSnapshot(p string) string { return filepath.ToSlash(p) }

// waitDone follows the progress page until the restore is done.
func waitDone(t *testing.T, w *running) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		p := w.page()
		if !strings.Contains(p, `data-step="progress"`) {
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the restore did not finish")
	return ""
}

// A colleague's identity file opens the kit.
func TestUnlockWithColleagueFile(t *testing.T) {
	dir := t.TempDir()
	k := newTestKit(t, dir)
	w := startWizard(t, Options{Lang: "fr", Target: k.img})
	w.open()
	w.do("lang", "lang", "fr")
	w.do("kit.use")
	p := w.do("unlock.colleagues")
	mustContain(t, p, "ana")
	p = w.post(map[string][]string{"do": {"unlock.files"}}, map[string][]byte{"notes.txt": []byte("not a key\n")})
	mustContain(t, p, "notes.txt")
	id, _ := os.ReadFile(k.identity)
	p = w.post(map[string][]string{"do": {"unlock.files"}}, map[string][]byte{"ana.key": id})
	mustContain(t, p, `data-step="snapshot"`, "3 novembre 2026")
}

// The wizard stops when the page says goodbye and does not come back, and closes the kit.
func TestStopsWhenThePageCloses(t *testing.T) {
	dir := t.TempDir()
	k := newTestKit(t, dir)
	w := startWizard(t, Options{Lang: "en", Target: k.img, ByeGrace: 300 * time.Millisecond})
	w.open()
	w.do("lang", "lang", "en")
	w.do("kit.use")
	w.do("unlock.secret", "secret", k.pass)
	// a goodbye followed by the next page (a step, a reload) is not the end
	w.postPath("/bye")
	w.page()
	time.Sleep(600 * time.Millisecond)
	w.page()
	// a goodbye and silence is
	w.postPath("/bye")
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the wizard did not stop when the page closed")
	}
	w.done <- nil
	// the kit is closed: it opens for writing again (nothing holds it)
	if _, err := os.Stat(k.img); err != nil {
		t.Fatal(err)
	}
}

// The wizard stops after its idle time, and when the heartbeat stops.
func TestStopsWhenIdleOrSilent(t *testing.T) {
	w := startWizard(t, Options{Lang: "en", Idle: 500 * time.Millisecond})
	w.open()
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the wizard did not stop when idle")
	}
	w.done <- nil
	w2 := startWizard(t, Options{Lang: "en", PageGone: 500 * time.Millisecond})
	w2.open()
	w2.postPath("/alive")
	select {
	case <-w2.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the wizard did not stop when the heartbeat stopped")
	}
	w2.done <- nil
}

func (r *running) postPath(path string) {
	r.t.Helper()
	resp, err := r.c.Post(r.origin+path, "text/plain", strings.NewReader(""))
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
}

// The kit screens without a kit: none plugged in; rights needed, asked, refused; this
// system cannot ask (no pkexec, no terminal): the command to type; several kits.
func TestKitScreens(t *testing.T) {
	var found []drive.Found
	needAdmin := false
	sys := &fakeSystem{}
	w := startWizard(t, Options{Lang: "en", System: sys, Exe: "/media/TRAVELKIT/bin/linux-amd64/travelkit",
		Find: func() ([]drive.Found, bool, error) { return found, needAdmin, nil }})
	w.open()
	mustContain(t, w.do("lang", "lang", "en"), "Plug in your kit", "Look again")
	needAdmin = true
	p := w.do("kit.again")
	mustContain(t, p, "travelkit needs your permission", "A window will ask for your computer password", "Allow travelkit to read the drive")
	p = w.do("kit.elevate") // the fake refuses
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p, "The permission was not given") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		p = w.page()
	}
	mustContain(t, p, "The permission was not given")
	sys.mu.Lock()
	args := sys.elevated[0]
	sys.mu.Unlock()
	if args[0] != "/media/TRAVELKIT/bin/linux-amd64/travelkit" || args[1] != "wizard" || !contains(args, "--handoff") || !contains(args, "--owner") || !contains(args, "--lang") {
		t.Errorf("relaunched as %q", args)
	}
	sys.mu.Lock()
	sys.noElev = &NoElevationError{Command: "sudo " + shellQuote("%EXE%") + " wizard"}
	sys.mu.Unlock()
	p = w.do("kit.elevate")
	mustContain(t, p, "cannot show a password window", "sudo /media/TRAVELKIT/bin/linux-amd64/travelkit wizard")
	needAdmin = false
	found = []drive.Found{{Path: "/dev/sdb", KitID: "amina-2026", Size: 64e9, Model: "SanDisk"}, {Path: "/dev/sdc", KitID: "bo-2025", Size: 32e9, Model: "Kingston"}}
	mustContain(t, w.do("kit.again"), "Several kits are plugged in", "bo-2025", "/dev/sdc")
	p = w.do("kit.pick", "path", "/dev/sdc")
	mustContain(t, p, "The drive could not be opened")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The relaunch hands the browser over: the elevated copy (another Run, here in process)
// writes its address where the first one waits, and the first one's page goes there.
func TestHandoff(t *testing.T) {
	dir := t.TempDir()
	k := newTestKit(t, dir)
	sys := &fakeSystem{}
	child := make(chan *running, 1)
	sys.elevate = func(ctx context.Context, exe string, args []string) error {
		// what cmd_wizard does with the arguments, for the copy run "elevated"
		o := Options{Lang: argAfter(args, "--lang"), Handoff: argAfter(args, "--handoff"), Home: argAfter(args, "--home"),
			Target: k.img, System: &fakeSystem{}, Out: io.Discard}
		urlc := make(chan string, 1)
		o.Listening = func(u string) { urlc <- u }
		done := make(chan error, 1)
		go func() { done <- Run(ctx, o) }()
		u := <-urlc
		child <- &running{url: u}
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return <-done
		}
	}
	w := startWizard(t, Options{Lang: "ru", System: sys, Find: func() ([]drive.Found, bool, error) { return nil, true, nil }})
	w.open()
	w.do("lang", "lang", "ru")
	w.do("kit.elevate")
	var c *running
	select {
	case c = <-child:
	case <-time.After(30 * time.Second):
		t.Fatal("no elevated copy")
	}
	var got struct{ URL string }
	deadline := time.Now().Add(10 * time.Second)
	for got.URL == "" && time.Now().Before(deadline) {
		resp, err := w.c.Get(w.origin + "/elevated")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Sscanf(string(b), `{"url":%q}`, &got.URL)
		time.Sleep(100 * time.Millisecond)
	}
	if got.URL != c.url {
		t.Fatalf("the waiting page got %q, the elevated copy is at %q", got.URL, c.url)
	}
	mustContain(t, w.page(), `id="elevated"`, c.url)
	// the browser goes there: a same-site navigation from the first copy's port
	req, _ := http.NewRequest("GET", c.url, nil)
	req.Header.Set("Sec-Fetch-Site", "same-site")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	jar, _ := cookiejar.New(nil)
	cc := &http.Client{Jar: jar}
	resp, err := cc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `lang="ru"`) {
		t.Fatalf("the elevated copy: %s\n%s", resp.Status, b)
	}
	// the elevated copy asks the first (the person's own) to show a folder
	sys.mu.Lock()
	handoff := argAfter(sys.elevated[0], "--handoff")
	sys.mu.Unlock()
	if err := requestOpen(handoff, "/home/amina/Restored"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(sys.openedFolders()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := sys.openedFolders(); len(got) != 1 || got[0] != "/home/amina/Restored" {
		t.Errorf("the person's copy showed %v", got)
	}
	cu, _ := url.Parse(c.url)
	copyOrigin := cu.Scheme + "://" + cu.Host
	cw := &running{t: t, c: &http.Client{Jar: jar, Transport: originTransport{origin: copyOrigin}}, origin: copyOrigin}
	cw.do("quit")
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// A secret in the address is never read: the passphrase in the query of a POST (or a GET)
// does not unlock the kit; the same passphrase in the body does.
func TestSecretsOnlyInBody(t *testing.T) {
	dir := t.TempDir()
	k := newTestKit(t, dir)
	w := startWizard(t, Options{Lang: "en", Target: k.img})
	w.open()
	w.do("lang", "lang", "en")
	mustContain(t, w.do("kit.use"), `data-step="unlock"`)
	q := "?do=unlock.secret&secret=" + url.QueryEscape(k.pass)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("do", "unlock.secret")
	mw.Close()
	resp, err := w.c.Post(w.origin+"/"+q, mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustContain(t, string(body), `data-step="unlock"`, "Type your passphrase or recovery key first.")
	resp, err = w.c.Get(w.origin + "/" + q)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	mustContain(t, string(body), `data-step="unlock"`)
	mustContain(t, w.do("unlock.secret", "secret", k.pass), `data-step="snapshot"`)
}
