package repo

import "testing"

func TestSafeName(t *testing.T) {
	for _, c := range []struct {
		in    string
		rules NameRules
		want  string
	}{
		{"report.txt", WindowsNames, "report.txt"},
		{"a\nb", WindowsNames, "a%0Ab"},
		{`back\slash`, WindowsNames, "back%5Cslash"},
		{`what?.txt`, WindowsNames, "what%3F.txt"},
		{"CON", WindowsNames, "CON_"},
		{"con.txt", WindowsNames, "con_.txt"},
		{"LPT9.log", WindowsNames, "LPT9_.log"},
		{"COM10", WindowsNames, "COM10"},
		{"trailing. ", WindowsNames, "trailing%2E%20"},
		{"caf\xe9", WindowsNames, "caf%E9"},
		{"caf\xe9", MacNames, "caf%E9"},
		{"caf\xe9", POSIXNames, "caf\xe9"},
		{"a\nb", MacNames, "a\nb"},
		{"a:b", MacNames, "a:b"},
		{"a:b", WindowsNames, "a%3Ab"},
		{"café", WindowsNames, "café"},
		{"..", WindowsNames, "%2E%2E"},
		{"..", MacNames, "__"},
	} {
		if got := SafeName(c.in, c.rules); got != c.want {
			t.Errorf("SafeName(%q, %d) = %q, want %q", c.in, c.rules, got, c.want)
		}
	}
}
