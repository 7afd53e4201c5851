package kit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden RESTORE pages in testdata/kit")

var testInfo = RestoreInfo{
	KitName:   "amina-2026-12",
	Created:   time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
	Escrow:    []string{"colleague-a", "helpline"},
	Languages: Languages(),
	TPM:       true,
}

func TestCatalogsComplete(t *testing.T) {
	if len(catalogs) != len(Languages()) {
		t.Fatalf("%d catalogs for %d languages", len(catalogs), len(Languages()))
	}
	placeholder := regexp.MustCompile(`\{[a-z0-9]+\}`)
	known := map[string]bool{"{kit}": true, "{date}": true, "{drive}": true, "{wintarget}": true, "{unixtarget}": true,
		"{mac}": true, "{linux}": true, "{linux2}": true, "{names}": true, "{k}": true}
	for _, l := range Languages() {
		m := catalogs[l]
		if err := checkCatalog(m); err != nil {
			t.Errorf("%s: %v", l, err)
		}
		if err := ValidLanguage(l); err != nil || langNames[l] == "" {
			t.Errorf("%s: %v", l, err)
		}
		// The same placeholders in every language as in English.
		for _, f := range fieldsOf(m) {
			enText := fieldsOf(&en)[f.name]
			for _, p := range placeholder.FindAllString(f.text, -1) {
				if !known[p] {
					t.Errorf("%s.%s: unknown placeholder %s", l, f.name, p)
				}
			}
			if a, b := placeholder.FindAllString(enText.text, -1), placeholder.FindAllString(f.text, -1); strings.Join(a, "") != strings.Join(b, "") {
				t.Errorf("%s.%s: placeholders %v, English has %v", l, f.name, b, a)
			}
		}
	}
	if ValidLanguage("de") == nil {
		t.Error("de accepted")
	}
}

type field struct{ name, text string }

func fieldsOf(m *messages) map[string]field {
	out := map[string]field{}
	v := reflectValue(m)
	for i := 0; i < v.NumField(); i++ {
		n := v.Type().Field(i).Name
		out[n] = field{n, v.Field(i).String()}
	}
	return out
}

func TestRestorePages(t *testing.T) {
	pages, err := RestorePages(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2*len(Languages()) {
		t.Fatalf("%d pages", len(pages))
	}
	commands := []string{
		`E:\bin\windows-amd64\travelkit.exe restore --to C:\Restored`,
		`E:\bin\windows-arm64\travelkit.exe restore --to C:\Restored`,
		`sudo /Volumes/TRAVELKIT/bin/darwin-arm64/travelkit restore --to ~/Restored`,
		`sudo /Volumes/TRAVELKIT/bin/darwin-amd64/travelkit restore --to ~/Restored`,
		`xattr -d com.apple.quarantine /Volumes/TRAVELKIT/bin/darwin-arm64/travelkit`,
		`sudo /media/$USER/TRAVELKIT/bin/linux-amd64/travelkit restore --to ~/Restored`,
		`sudo /media/$USER/TRAVELKIT/bin/linux-arm64/travelkit restore --to ~/Restored`,
		`--recovery-key-file recovery-key.txt`,
		`--identity KEY-FILE`,
		`--tpm auto`,
		`age -d -i KEY-FILE colleague-a.age`,
		`age -d -i KEY-FILE helpline.age`,
		`sudo cryptsetup open /dev/sdX2 travelkit`,
		`sudo mount /dev/mapper/travelkit /mnt`,
		`restic -r /mnt/repo --password-file /mnt/travelkit/repo-password restore latest --target ~/Restored`,
		`sudo umount /mnt`,
		`sudo cryptsetup close travelkit`,
		`verify --target`,
		`sha256sum -c /mnt/travelkit/SHA256SUMS`,
	}
	for _, l := range Languages() {
		txtName, htmlName := RestoreFileNames(l)
		txt, html := string(pages[txtName]), string(pages[htmlName])
		t.Run(l, func(t *testing.T) {
			if !utf8.ValidString(txt) || !utf8.ValidString(html) {
				t.Fatal("not UTF-8")
			}
			if !strings.HasPrefix(txt, "\ufeff") || strings.Count(txt, "\n") != strings.Count(txt, "\r\n") {
				t.Error("text page: want a BOM and CRLF line ends")
			}
			htmlText := htmlUnescape(html)
			for _, want := range append([]string{"amina-2026-12", "2026-12-01", "colleague-a", "helpline", "TRAVELKIT"}, commands...) {
				if !strings.Contains(txt, want) {
					t.Errorf("text page lacks %q", want)
				}
				if !strings.Contains(htmlText, want) {
					t.Errorf("html page lacks %q", want)
				}
			}
			for _, page := range []string{txt, html} {
				if m := regexp.MustCompile(`\{[a-z0-9]+\}|<no value>|%!`).FindString(page); m != "" {
					t.Errorf("unfilled %q", m)
				}
			}
			// Every other language is listed, not this one.
			for _, o := range Languages() {
				_, h := RestoreFileNames(o)
				if has := strings.Contains(txt, h); has != (o != l) {
					t.Errorf("other language %s listed: %v", o, has)
				}
			}
			checkHTML(t, l, html)
			checkRTLText(t, l, txt)
		})
	}
}

// checkHTML: self-contained (no network, no scripts), direction, balanced tags.
func checkHTML(t *testing.T, lang, html string) {
	t.Helper()
	dir := "ltr"
	if lang == "ar" || lang == "fa" {
		dir = "rtl"
	}
	if !strings.Contains(html, `<html lang="`+lang+`" dir="`+dir+`">`) {
		t.Errorf("no <html lang=%q dir=%q>", lang, dir)
	}
	lower := strings.ToLower(html)
	for _, bad := range []string{"http://", "https://", "//", "<script", "<link", "<img", "<iframe", "src=", "@import", "url(", "javascript:"} {
		if bad == "//" {
			// Allowed only inside a code block path? There is none; any "//" would be a
			// protocol-relative URL.
			if strings.Contains(strings.ReplaceAll(lower, `\\.\`, ""), "://") {
				t.Error("a URL in the page")
			}
			continue
		}
		if strings.Contains(lower, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if !strings.Contains(html, "@media print") || !strings.Contains(html, `<meta charset="utf-8">`) {
		t.Error("no print style or charset")
	}
	// Every code block is left to right, inside right-to-left text too.
	if n, m := strings.Count(html, "<pre"), strings.Count(html, `<pre dir="ltr">`); n == 0 || n != m {
		t.Errorf("%d of %d <pre> blocks are dir=ltr", m, n)
	}
	if err := balanced(html); err != nil {
		t.Error(err)
	}
}

// balanced checks that every element is closed in order, with a tiny tokenizer: enough for
// pages that our own templates write.
func balanced(html string) error {
	void := map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "link": true, "input": true, "!doctype": true}
	var stack []string
	tag := regexp.MustCompile(`<(/?)([A-Za-z!][A-Za-z0-9]*)([^>]*)>`)
	for _, m := range tag.FindAllStringSubmatch(html, -1) {
		name := strings.ToLower(m[2])
		if void[name] {
			continue
		}
		if strings.Contains(m[3], "<") || strings.Count(m[3], `"`)%2 != 0 {
			return errorf("malformed tag %q", m[0])
		}
		if m[1] == "" {
			stack = append(stack, name)
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1] != name {
			return errorf("</%s> closes %v", name, stack)
		}
		stack = stack[:len(stack)-1]
	}
	if len(stack) != 0 {
		return errorf("unclosed %v", stack)
	}
	if strings.Count(html, "<") != len(tag.FindAllString(html, -1)) {
		return errorf("a stray '<'")
	}
	return nil
}

// checkRTLText: in ar and fa, prose lines start with a RIGHT-TO-LEFT MARK and command lines
// do not; in the other languages there is none.
func checkRTLText(t *testing.T, lang, txt string) {
	t.Helper()
	rtlLang := lang == "ar" || lang == "fa"
	for i, line := range strings.Split(strings.TrimPrefix(txt, "\ufeff"), "\r\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "      "): // a command
			if strings.Contains(line, rlm) {
				t.Errorf("line %d: RLM in a command: %q", i+1, line)
			}
		case rtlLang && !strings.HasPrefix(line, rlm):
			t.Errorf("line %d: no RLM: %q", i+1, line)
		case !rtlLang && strings.Contains(line, rlm):
			t.Errorf("line %d: RLM in %s", i+1, lang)
		}
		trimmed := strings.TrimPrefix(line, rlm)
		if n := utf8.RuneCountInString(trimmed); n > lineWidth && !strings.HasPrefix(line, "      ") && strings.Contains(strings.TrimSpace(trimmed), " ") {
			t.Errorf("line %d: %d characters: %q", i+1, n, line)
		}
	}
}

func TestRestoreSubsets(t *testing.T) {
	info := RestoreInfo{KitName: "k1", Created: testInfo.Created, Platforms: []string{"linux/amd64"}, Languages: []string{"en"}}
	txt, html, err := RenderRestore("en", info)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{string(txt), htmlUnescape(string(html))} {
		if strings.Contains(page, "windows-amd64") || strings.Contains(page, "darwin-") || strings.Contains(page, "linux-arm64") {
			t.Error("a binary the kit does not carry is named")
		}
		if strings.Count(page, "This kit carries no program") != 2 {
			t.Errorf("want the no-program note for Windows and macOS")
		}
		if !strings.Contains(page, en.NoColleagues) || strings.Contains(page, "age -d") {
			t.Error("no-escrow kit: wrong colleague section")
		}
		if strings.Contains(page, "--tpm") {
			t.Error("TPM section on a kit without TPM")
		}
		if strings.Contains(page, en.OtherLangs) {
			t.Error("other languages listed on a one-language kit")
		}
	}
	if _, _, err := RenderRestore("de", info); err == nil {
		t.Error("unknown language rendered")
	}
	if _, _, err := RenderRestore("en", RestoreInfo{}); err == nil {
		t.Error("no kit name accepted")
	}
	if _, _, err := RenderRestore("en", RestoreInfo{KitName: "k", Platforms: []string{"plan9/386"}}); err == nil {
		t.Error("unknown platform accepted")
	}
	// Values are escaped in HTML.
	_, html, err = RenderRestore("fr", RestoreInfo{KitName: `<b>&"x"`, Escrow: []string{"<i>"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(html), "<b>") || strings.Contains(string(html), "<i>") || balanced(string(html)) != nil {
		t.Error("kit or escrow name not escaped")
	}
}

// The golden pages in testdata/kit are for people to read (and review translations);
// go test ./kit -run Golden -update rewrites them.
func TestRestoreGolden(t *testing.T) {
	pages, err := RestorePages(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range pages {
		p := filepath.Join("..", "testdata", "kit", name)
		if *update {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./kit -run Golden -update)", err)
		}
		if !bytes.Equal(want, b) {
			t.Errorf("%s differs from the golden copy (run go test ./kit -run Golden -update and review the diff)", name)
		}
	}
}

// A k-of-n escrow: the pages say how many colleagues must help, how each one decrypts a
// share, how to pass the shares to travelkit, and the stock ssss-combine command.
func TestRestoreShares(t *testing.T) {
	info := testInfo
	info.Threshold = 2
	for _, lang := range Languages() {
		txt, html, err := RenderRestore(lang, info)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []string{string(txt), htmlUnescape(string(html))} {
			for _, want := range []string{"ssss-combine -t 2", "--share-file SHARE-FILE", "age -d -i KEY-FILE", "luks-header.age", "header-restore --target DRIVE"} {
				if !strings.Contains(b, want) {
					t.Errorf("%s: the pages lack %q", lang, want)
				}
			}
			if strings.Contains(b, "{k}") {
				t.Errorf("%s: placeholder {k} left", lang)
			}
		}
	}
	info.Escrow = nil
	txt, _, _ := RenderRestore("en", info)
	if strings.Contains(string(txt), "header-restore") {
		t.Error("a kit without escrow gets the revival section")
	}
}

// The RESTORE pages lead with the wizard ("double-click travelkit"), before any command,
// in every language, in the text and the HTML page.
func TestRestoreLeadsWithWizard(t *testing.T) {
	info := testInfo
	info.Platforms = []string{"windows/amd64", "darwin/arm64", "linux/amd64"}
	for _, l := range Languages() {
		m := catalogs[l]
		txt, html, err := RenderRestore(l, info)
		if err != nil {
			t.Fatal(err)
		}
		for name, page := range map[string]string{"txt": string(txt), "html": string(html)} {
			easy, win := strings.Index(page, m.EasyTitle), strings.Index(page, m.WinTitle)
			if easy < 0 || win < 0 || easy > win {
				t.Errorf("%s %s: the double-click section (at %d) does not come before the Windows commands (at %d)", l, name, easy, win)
			}
			if !strings.Contains(page, "travelkit") || !strings.Contains(page, "windows-amd64") {
				t.Errorf("%s %s: the double-click section names no folder", l, name)
			}
		}
	}
}
