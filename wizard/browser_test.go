//go:build linux

package wizard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"travelkit/i18n"
)

// chromium is Debian's headless browser (scripts/install-test-deps.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run scripts/install-test-deps.sh (make test-deps)")
	return ""
}

// artifactDir is where the screenshots go: $TRAVELKIT_ARTIFACTS/wizard, else a folder in
// the temporary directory (named in the test log).
func artifactDir(t *testing.T) string {
	base := os.Getenv("TRAVELKIT_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "travelkit-artifacts")
	}
	dir := filepath.Join(base, "wizard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// layout is what the test reads from the rendered page.
type layout struct {
	Step        string `json:"step"`
	Dir         string `json:"dir"`       // computed direction of the body
	MainDir     string `json:"mainDir"`   // of the main heading
	ScrollWidth int    `json:"sw"`        // of the document
	ClientWidth int    `json:"cw"`        // of the viewport
	Overflowing string `json:"overflow"`  // the first element wider than its box, if any
	Heading     string `json:"heading"`   // the h1
	Unlabelled  string `json:"unlabeled"` // the first control without a label, if any
}

const layoutJS = `(function () {
  var h = document.querySelector("h1");
  var over = "";
  document.querySelectorAll("main *, header *, footer *").forEach(function (e) {
    if (over) return;
    var r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > innerWidth + 1 || r.left < -1)) {
      over = e.tagName + " " + (e.id || e.className || "") + " " + (e.textContent || "").slice(0, 60);
    }
  });
  var unl = "";
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (e) {
    if (unl) return;
    if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label")) { unl = e.name || e.id || e.type; }
  });
  return {
    step: document.body.getAttribute("data-step"),
    dir: getComputedStyle(document.body).direction,
    mainDir: h ? getComputedStyle(h).direction : "",
    sw: document.documentElement.scrollWidth,
    cw: document.documentElement.clientWidth,
    overflow: over,
    heading: h ? h.textContent : "",
    unlabeled: unl
  };
})()`

// reachJS finds the first control a person cannot reach: one that, scrolled into view,
// still lies beyond the page's width, cannot come into the window, or is covered by
// something else at its middle. Controls not shown (display:none, a closed details) are
// skipped. It leaves the page scrolled to the top.
const reachJS = `(function () {
  var bad = "";
  var ctl = document.querySelectorAll("button, input:not([type=hidden]), select, textarea, a[href], summary");
  for (var i = 0; i < ctl.length && !bad; i++) {
    var e = ctl[i];
    if (!e.getClientRects().length) continue;
    e.scrollIntoView({block: "center", inline: "center"});
    var r = e.getBoundingClientRect();
    var name = e.tagName + " " + (e.name || e.id || "") + " " + String(e.value || e.textContent || "").trim().slice(0, 40);
    if (r.left < -1 || r.right > innerWidth + 1) { bad = name + ": beyond the page's width"; break; }
    if (r.height <= innerHeight && (r.top < -1 || r.bottom > innerHeight + 1)) { bad = name + ": cannot be scrolled into the window"; break; }
    var x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
    var y = Math.min(Math.max(r.top + Math.min(r.height / 2, innerHeight / 2), 0), innerHeight - 1);
    var hit = document.elementFromPoint(x, y);
    var mine = hit && (hit === e || e.contains(hit) ||
      (e.labels && Array.prototype.some.call(e.labels, function (l) { return l.contains(hit); })));
    if (!mine) { bad = name + ": covered by " + (hit ? hit.tagName + " " + (hit.id || hit.className || "") : "nothing"); }
  }
  scrollTo(0, 0);
  return bad;
})()`

// The window of the normal checks (the 1280x720), and a small laptop at 200% zoom:
// a 1280x720 screen less the taskbar and the browser's bars leaves about 1280x600 for the
// page, which 200% zoom makes a 640x300 page drawn with twice the pixels.
const (
	windowW, windowH = 1280, 720
	zoomW, zoomH     = 640, 300
)

// TestBrowserRestore drives the wizard in Debian's headless Chromium, by clicks and typing
// as a person would, in all six languages: language, kit (checked), unlock (a wrong
// passphrase, then the right one), a backup, everything, the default folder, progress,
// done. The restored tree equals the snapshot; Arabic and Persian pages are laid out
// right to left (computed direction), the others left to right; every control has a
// label. Every step, in every language, is checked twice: in a 1280x720 window, and on a
// small laptop at 200% zoom (zoomW x zoomH at scale 2): nothing is wider than the page,
// and every control can be scrolled to, within the page's width, uncovered. A screenshot
// of every step at both sizes goes to the artifacts folder (<lang>/ and <lang>-zoom200/).
func TestBrowserRestore(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	k := newTestKit(t, dir)
	shots := artifactDir(t)
	t.Logf("screenshots: %s", shots)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.WindowSize(windowW, windowH),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.NoSandbox, // the tests run as root; the page is our own
		chromedp.Flag("lang", "en-US"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil { // start the browser once
		t.Fatal(err)
	}

	for _, lang := range i18n.Languages() {
		t.Run(lang, func(t *testing.T) {
			browseRestore(t, bctx, k, lang, filepath.Join(shots, lang), filepath.Join(shots, lang+"-zoom200"))
		})
	}
}

func browseRestore(t *testing.T, bctx context.Context, k *testKit, lang, shots, zoomShots string) {
	home := filepath.Join(t.TempDir(), "person")
	os.MkdirAll(shots, 0o755)
	os.MkdirAll(zoomShots, 0o755)
	w := startWizard(t, Options{Lang: "en", Target: k.img, Home: home})
	ctx, cancel := chromedp.NewContext(bctx) // a tab of its own
	defer cancel()
	p := i18n.New(lang)
	n := 0

	// check reads the layout of the step shown in the viewport set now, fails on what
	// does not fit, and saves a screenshot.
	check := func(step, size, dir string) layout {
		t.Helper()
		l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](layoutJS))
		if err != nil {
			t.Fatal(err)
		}
		if l.ScrollWidth > l.ClientWidth || l.Overflowing != "" {
			t.Errorf("%s: wider than the %s page (%d > %d): %s", step, size, l.ScrollWidth, l.ClientWidth, l.Overflowing)
		}
		unreachable, err := chromedp.Run(ctx, chromedp.Evaluate[string](reachJS))
		if err != nil {
			t.Fatal(err)
		}
		if unreachable != "" {
			t.Errorf("%s: at %s, a control out of reach: %s", step, size, unreachable)
		}
		// The screenshot is for people to look at, not a check. Chromium's
		// Page.captureScreenshot now and then does not answer for minutes (once in
		// CI, 2026-12-02: ten minutes at a 200% zoom step, until the test was killed):
		// it gets a minute, then the step goes on without its picture.
		sctx, scancel := context.WithTimeout(ctx, screenshotWait)
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		late := sctx.Err() != nil
		scancel()
		if late {
			t.Logf("%s at %s: no screenshot, Chromium did not answer within %v", step, size, screenshotWait)
			return l
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s.png", n, step)), png, 0o644); err != nil {
			t.Fatal(err)
		}
		return l
	}
	normal := chromedp.EmulateViewport(windowW, windowH)
	zoomed := chromedp.EmulateViewport(zoomW, zoomH, chromedp.EmulateScale(2))
	// see checks the step shown, its layout at both sizes, and saves the screenshots.
	see := func(step, heading string) {
		t.Helper()
		if err := waitFor(ctx, `body[data-step="`+step+`"] h1`); err != nil {
			ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			got, err2 := chromedp.Run(ectx, chromedp.Evaluate[string](`location.href + "\n" + document.body.outerHTML`))
			t.Fatalf("step %s did not come: %v\n%s %v", step, err, got, err2)
		}
		n++
		l := check(step, "1280x720", shots)
		if err := chromedp.Do(ctx, zoomed); err != nil {
			t.Fatal(err)
		}
		check(step, "200% zoom", zoomShots)
		if err := chromedp.Do(ctx, normal); err != nil {
			t.Fatal(err)
		}
		wantDir := "ltr"
		if i18n.RTL(lang) && step != "language" {
			wantDir = "rtl"
		}
		if l.Dir != wantDir || (l.MainDir != "" && l.MainDir != wantDir) {
			t.Errorf("%s: direction %q (heading %q), want %q", step, l.Dir, l.MainDir, wantDir)
		}
		if l.Unlabelled != "" {
			t.Errorf("%s: a control without a label: %s", step, l.Unlabelled)
		}
		if heading != "" && strings.TrimSpace(l.Heading) != heading {
			t.Errorf("%s: heading %q, want %q", step, l.Heading, heading)
		}
	}
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}

	if err := chromedp.Do(ctx, normal, chromedp.Navigate(w.url)); err != nil {
		t.Fatal(err)
	}
	see("language", i18n.New("en").T("wizard.lang.title"))
	click(`button[name="lang"][value="` + lang + `"]`)
	see("kit", p.T("wizard.kit.title"))
	click(`button[name="do"][value="kit.use"]`)
	see("unlock", p.T("wizard.unlock.title"))

	// a wrong passphrase first: said in plain words, and the field is empty again
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#secret`), "not my passphrase")); err != nil {
		t.Fatal(err)
	}
	click(`form:has(#secret) button.primary`)
	if err := waitFor(ctx, `body[data-step="unlock"] p.flash`); err != nil {
		t.Fatal(err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("p.flash").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.SplitN(p.T("wizard.unlock.wrong", "1"), "(", 2)[0]; !strings.Contains(flash, strings.TrimSpace(want)) {
		t.Errorf("after a wrong passphrase: %q, want %q", flash, want)
	}
	see("unlock", p.T("wizard.unlock.title"))
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#secret`), k.pass)); err != nil {
		t.Fatal(err)
	}
	click(`form:has(#secret) button.primary`)
	see("snapshot", p.T("wizard.snap.title"))
	click(`button[name="id"]`)
	see("what", p.T("wizard.what.title"))
	click(`button[name="do"][value="what.all"]`)
	see("where", p.T("wizard.where.title"))
	dest, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#dest`)))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "Restored"); dest != want {
		t.Errorf("the default folder is %q, want %q", dest, want)
	}
	click(`button[name="do"][value="where.start"]`)
	// the progress page is seen when the restore is slower than the page; the tree here
	// is small, so it may be done at once
	if err := waitFor(ctx, `body[data-step="progress"] h1, body[data-step="done"] h1`); err != nil {
		t.Fatal(err)
	}
	step, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.getAttribute("data-step")`))
	if step == "progress" {
		see("progress", p.T("wizard.progress.title"))
	}
	see("done", p.T("wizard.done.title"))
	sameTree(t, k.src, filepath.Join(home, "Restored"))

	click(`button[name="do"][value="quit"]`)
	see("closed", p.T("wizard.closed.title"))
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatal(err)
		}
		w.done <- nil // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("the wizard did not stop after Close")
	}
}

// waitFor waits until the page that is loaded has an element matching the CSS selector.
// It asks the page itself (no node ids kept across a navigation, which a form submission
// starts at any time).
// screenshotWait bounds one screenshot (see check in browseRestore).
var screenshotWait = time.Minute

func waitFor(ctx context.Context, css string) error {
	js := fmt.Sprintf(`document.readyState === "complete" && document.querySelector(%q) !== null`, css)
	deadline := time.Now().Add(time.Minute)
	for {
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := chromedp.Run(ectx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s after a minute (last error: %v)", css, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
