package i18n

import (
	"slices"
	"strings"
	"testing"
)

func TestPlurals(t *testing.T) {
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 day"}, {"en", 2, "2 days"}, {"en", 1500, "1,500 days"},
		{"ru", 1, "1 день"}, {"ru", 3, "3 дня"}, {"ru", 5, "5 дней"}, {"ru", 21, "21 день"}, {"ru", 11, "11 дней"},
		{"ar", 1, "يوم واحد"}, {"ar", 2, "يومان"}, {"ar", 3, "٣ أيام"}, {"ar", 11, "١١ يومًا"}, {"ar", 100, "١٠٠ يوم"},
		{"fa", 3, "۳ روز"}, {"fr", 0, "0 jour"}, {"es", 1, "1 día"},
	} {
		if got := New(c.lang).T("time.days", c.n); got != c.want {
			t.Errorf("%s %d: %q, want %q", c.lang, c.n, got, c.want)
		}
	}
	// a form that leaves out its number, and the other argument, placed by number
	got := New("ar").T("strength.time", "يوم واحد", 1)
	if strings.Contains(got, "%!") || !strings.Contains(got, "بطاقة رسومية واحدة") || !strings.Contains(got, "يوم واحد") {
		t.Errorf("ar strength.time: %q", got)
	}
}

func TestHTML(t *testing.T) {
	p := New("ar")
	got := string(p.HTML("strength.time", `<script>"x"&`, 100))
	if strings.Contains(got, "<script>") || !strings.Contains(got, "<bdi>&lt;script&gt;&#34;x&#34;&amp;</bdi>") || !strings.Contains(got, "١٠٠") {
		t.Errorf("HTML: %s", got)
	}
	if p.Dir() != "rtl" || New("ru").Dir() != "ltr" {
		t.Error("direction")
	}
	if key := "no.such" + ".key"; New("en").T(key) != key {
		t.Errorf("unknown key: %q", New("en").T(key))
	}
}

func TestError(t *testing.T) {
	err := Errorf("time.days", 3)
	if err.Error() != "3 days" {
		t.Errorf("Error(): %q", err.Error())
	}
	if got := New("fa").Error(err); got != "۳ روز" {
		t.Errorf("fa: %q", got)
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]string{
		"fa": "fa", "fa_IR.UTF-8": "fa", "ar_EG.UTF-8": "ar", "es-MX": "es", "ru_RU@euro": "ru", "fr_CA": "fr",
		"en_GB.UTF-8": "en", "prs": "", "pt_BR": "", "C": "", "POSIX": "", "": "", "de_DE.UTF-8": "", "zz-bogus-!!": "",
	} {
		got, ok := Match(in)
		if want == "" {
			if ok {
				t.Errorf("Match(%q) = %q, want no match", in, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("Match(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

type fakeSystem struct {
	env  map[string]string
	user []string
}

func (f fakeSystem) Getenv(k string) string  { return f.env[k] }
func (f fakeSystem) UserLanguages() []string { return f.user }

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		flag string
		env  map[string]string
		user []string
		want string
	}{
		{"ar", map[string]string{"LANG": "ru_RU.UTF-8"}, []string{"fa-IR"}, "ar"},
		{"", map[string]string{"LANG": "ru_RU.UTF-8", "LC_ALL": "es_ES.UTF-8"}, nil, "es"},
		{"", map[string]string{"LANG": "ru_RU.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, nil, "fr"},
		{"", map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "fa:en"}, nil, "fa"},
		{"", map[string]string{"LANG": "C", "LANGUAGE": "fa:en"}, nil, "en"},         // gettext ignores LANGUAGE in the C locale
		{"", map[string]string{"LANG": "C.UTF-8"}, []string{"de-DE", "ar-SA"}, "ar"}, // a double-click on macOS: no LANG
		{"", nil, []string{"fa-IR", "en-US"}, "fa"},
		{"", map[string]string{"LANG": "de_DE.UTF-8"}, nil, "en"},
		{"", nil, nil, "en"},
	} {
		if got := Choose(c.flag, fakeSystem{c.env, c.user}); got != c.want {
			t.Errorf("Choose(%q, %v, %v) = %q, want %q", c.flag, c.env, c.user, got, c.want)
		}
	}
}

func TestParseAppleLanguages(t *testing.T) {
	got := parseAppleLanguages("(\n    \"fa-IR\",\n    \"en-US\",\n    ar\n)\n")
	if !slices.Equal(got, []string{"fa-IR", "en-US", "ar"}) {
		t.Errorf("%q", got)
	}
	if got := parseAppleLanguages(""); len(got) != 0 {
		t.Errorf("empty: %q", got)
	}
}

func TestNames(t *testing.T) {
	for _, l := range Languages() {
		if Name(l) == "" {
			t.Errorf("no name for %s", l)
		}
		if New(l).Lang() != l {
			t.Errorf("New(%s).Lang() = %s", l, New(l).Lang())
		}
	}
}
