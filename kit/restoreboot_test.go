package kit

import (
	"strings"
	"testing"
	"time"
)

// A bootable kit's pages say how to start a computer from it, in every language; others
// do not mention it.
func TestRestorePagesBoot(t *testing.T) {
	for _, lang := range Languages() {
		txt, html, err := RenderRestore(lang, RestoreInfo{KitName: "k", Created: time.Now(), Boot: true})
		if err != nil {
			t.Fatal(err)
		}
		m := catalogs[lang]
		for _, page := range []string{string(txt), string(html)} {
			for _, want := range []string{"HP: F9", "Option (⌥)", "Microsoft Surface"} {
				if !strings.Contains(page, want) {
					t.Errorf("%s: no %q", lang, want)
				}
			}
			if !strings.Contains(strings.Join(strings.Fields(page), " "), strings.Fields(m.BootNo)[0]) {
				t.Errorf("%s: no Apple silicon note", lang)
			}
		}
		txt, _, _ = RenderRestore(lang, RestoreInfo{KitName: "k", Created: time.Now()})
		if strings.Contains(string(txt), "HP: F9") {
			t.Errorf("%s: a kit that does not boot tells how to boot it", lang)
		}
	}
}
