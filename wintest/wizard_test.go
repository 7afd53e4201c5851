package wintest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// wizardCmd is the script command `wwizard LANG TARGET DIR`: travelkit.exe wizard --lang en
// --no-browser --target TARGET under Wine; it reads the address the wizard prints, opens
// it as a browser would (the one-time token for the session cookie), saves the first page
// as DIR/1.html, chooses LANG (a POST with the page's Origin) and saves the next page (the
// kit, found and checked) as DIR/2.html, then closes the wizard with its "Close" button and
// waits for travelkit.exe to end.
func wizardCmd(ts *testscript.TestScript, w *Wine, exe string, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: wwizard LANG TARGET DIR")
	}
	lang, target, dir := args[0], args[1], ts.MkAbs(args[2])
	ts.Check(os.MkdirAll(dir, 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// timeout(1) inside the new session ends travelkit.exe itself after 5 minutes: ctx
	// kills only setsid
	cmd := exec.CommandContext(ctx, "setsid", "-w", "timeout", "-k", "10s", "5m", w.Loader, exe, "wizard", "--no-browser", "--lang", "en", "--target", target)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = append(append(os.Environ(), w.Env...), "TRAVELKIT_WINE=1", "TMPDIR="+w.ServerTmp)
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	cmd.Stderr = os.Stderr
	ts.Check(cmd.Start())
	defer cmd.Process.Kill()
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/t/[0-9a-f]+`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" {
				addr <- m
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	var first string
	select {
	case first = <-addr:
	case <-time.After(3 * time.Minute):
		ts.Fatalf("travelkit.exe wizard printed no address")
	}
	ts.Logf("wizard at %s/…", first[:strings.Index(first, "/t/")])
	u, _ := url.Parse(first)
	origin := u.Scheme + "://" + u.Host
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
	save := func(resp *http.Response, err error, name string) {
		ts.Check(err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.Check(err)
		if resp.StatusCode != 200 {
			ts.Fatalf("%s: %s\n%s", name, resp.Status, b)
		}
		ts.Check(os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	post := func(fields ...string) (*http.Response, error) {
		var b strings.Builder
		mw := multipart.NewWriter(&b)
		for i := 0; i+1 < len(fields); i += 2 {
			mw.WriteField(fields[i], fields[i+1])
		}
		mw.Close()
		req, _ := http.NewRequest("POST", origin+"/", strings.NewReader(b.String()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", origin)
		return c.Do(req)
	}
	resp, err := c.Get(first)
	save(resp, err, "1.html")
	resp, err = post("do", "lang", "lang", lang)
	save(resp, err, "2.html")
	resp, err = post("do", "quit")
	save(resp, err, "3.html")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			ts.Fatalf("travelkit.exe wizard: %v", err)
		}
	case <-time.After(2 * time.Minute):
		ts.Fatalf("travelkit.exe wizard did not stop after Close")
	}
	fmt.Fprintln(ts.Stdout(), "wizard stopped")
}
