package kit

import (
	"regexp"
	"strings"
	"testing"
)

var recoveryKeyRE = regexp.MustCompile(`^[cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}$`)

func TestGenerateRecoveryKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k, err := GenerateRecoveryKey()
		if err != nil {
			t.Fatal(err)
		}
		if !recoveryKeyRE.MatchString(k) || len(k) != RecoveryKeyLength || RecoveryKeyLength != 71 {
			t.Fatalf("bad key shape %q", k)
		}
		if seen[k] {
			t.Fatal("repeated key")
		}
		seen[k] = true
		if p, err := ParseRecoveryKey(k); err != nil || p != k {
			t.Fatalf("ParseRecoveryKey(%q) = %q, %v", k, p, err)
		}
	}
}

func TestFormatRecoveryKey(t *testing.T) {
	raw := make([]byte, 32)
	if got := formatRecoveryKey(raw); got != strings.Repeat("cccccccc-", 7)+"cccccccc" {
		t.Errorf("zero key: %s", got)
	}
	for i := range raw {
		raw[i] = 0x0f // high nibble first: 0 -> 'c', 15 -> 'v'
	}
	if got := formatRecoveryKey(raw); got != strings.Repeat("cvcvcvcv-", 7)+"cvcvcvcv" {
		t.Errorf("0x0f key: %s", got)
	}
}

func TestParseRecoveryKey(t *testing.T) {
	// A key in the shape systemd's own tests use.
	const canon = "iefgcelh-biduvkjv-cjvuncnk-vlfchdid-jhtuhhde-urkllkeg-ilkjgbrt-hjkbgktj"
	good := []string{
		canon,
		canon + "\n",
		"  " + canon + "\r\n",
		strings.ToUpper(canon),
		strings.ReplaceAll(canon, "-", ""),
		strings.ReplaceAll(canon, "-", " "),
	}
	for _, s := range good {
		got, err := ParseRecoveryKey(s)
		if err != nil || got != canon {
			t.Errorf("ParseRecoveryKey(%q) = %q, %v; want %q", s, got, err, canon)
		}
	}
	bad := []string{
		"",
		canon[:70],
		canon + "c",
		canon + "-",
		"-" + canon,
		strings.Replace(canon, "-", "--", 1),
		strings.Replace(canon, "i", "a", 1), // 'a' is not modhex
		strings.Replace(canon, "-", "", 3),  // some dashes only
		canon[:9] + canon[10:] + "c",        // a group of 9 and one of 7... shaped wrong
		strings.ReplaceAll(canon, "-", "") + "cc",
		"correct horse battery staple",
	}
	for _, s := range bad {
		if got, err := ParseRecoveryKey(s); err == nil {
			t.Errorf("ParseRecoveryKey(%q) = %q, want error", s, got)
		} else if strings.Contains(err.Error(), "iefg") {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

func FuzzParseRecoveryKey(f *testing.F) {
	f.Add("iefgcelh-biduvkjv-cjvuncnk-vlfchdid-jhtuhhde-urkllkeg-ilkjgbrt-hjkbgktj")
	f.Add("IEFGCELHBIDUVKJVCJVUNCNKVLFCHDIDJHTUHHDEURKLLKEGILKJGBRTHJKBGKTJ\n")
	f.Add("cccccccc-")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseRecoveryKey(s)
		if err != nil {
			return
		}
		if !recoveryKeyRE.MatchString(k) {
			t.Fatalf("accepted %q as %q", s, k)
		}
		if k2, err := ParseRecoveryKey(k); err != nil || k2 != k {
			t.Fatalf("not idempotent: %q -> %q, %v", k, k2, err)
		}
	})
}

func TestRecoveryKeyToken(t *testing.T) {
	if got := string(RecoveryKeyToken(1)); got != `{"type":"systemd-recovery","keyslots":["1"]}` {
		t.Error(got)
	}
}
