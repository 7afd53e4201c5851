package termsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"bin/linux-amd64/travelkit":       "bin/linux-amd64/travelkit",
		`C:\Users\amina\Documents`:        `C:\Users\amina\Documents`,
		"Документы/заметки.txt":           "Документы/заметки.txt",
		"ملاحظات سرية.txt":                "ملاحظات سرية.txt",
		"a b":                             "a b",
		"\x1b[2K\x1b[1AOK":                `\x1b[2K\x1b[1AOK`,
		"line\nOK: fake":                  `line\nOK: fake`,
		"cr\rOK":                          `cr\rOK`,
		"tab\there":                       `tab\there`,
		"del\x7f":                         `del\x7f`,
		"nul\x00":                         `nul\x00`,
		"csi\u009b2J":                     `csi\u009b2J`,
		"evil\u202etxt.exe":               `evil\u202etxt.exe`,
		"iso\u2066late\u2069":             `iso\u2066late\u2069`,
		"zero\u200bwidth":                 `zero\u200bwidth`,
		"nb\u00a0sp":                      `nb\u00a0sp`,
		"sep\u2028x":                      `sep\u2028x`,
		"bad\xff\xfeutf8":                 `bad\xff\xfeutf8`,
		"tag\U000E0041":                   `tag\U000e0041`,
		"emoji \U0001F600 stays":          "emoji \U0001F600 stays",
		"replacement \uFFFD is printable": "replacement \uFFFD is printable",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
		if Safe(in) != (Name(in) == in) {
			t.Errorf("Safe(%q) = %v, disagrees with Name", in, Safe(in))
		}
	}
}

func TestText(t *testing.T) {
	in := "problems:\n\tmissing: a\x1b]0;title\x07\n"
	want := "problems:\n\tmissing: a\\x1b]0;title\\x07\n"
	if got := Text(in); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

// FuzzName: whatever goes in, the output is valid UTF-8 made of printable characters only,
// and printable input comes back unchanged.
func FuzzName(f *testing.F) {
	for _, s := range []string{"", "a", "\x1b[31m", "\u202e", "\xff", "é", "\n\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Name(s), Text(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("output %q not valid UTF-8", out)
			}
		}
		out := Name(s)
		if !Safe(out) {
			t.Fatalf("Name(%q) = %q still has unprintable characters", s, out)
		}
		if strings.ContainsAny(out, "\x1b\n\r\x9b") {
			t.Fatalf("Name(%q) = %q", s, out)
		}
		if Safe(s) && out != s {
			t.Fatalf("printable %q changed to %q", s, out)
		}
		if tx := Text(s); !Safe(strings.NewReplacer("\n", "", "\t", "").Replace(tx)) {
			t.Fatalf("Text(%q) = %q", s, tx)
		}
	})
}
