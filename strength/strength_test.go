package strength

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"travelkit/i18n"
	"travelkit/luks"
)

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Abs(want) }

// The attacker's rates, computed by hand from the figures in README.md.
func TestRates(t *testing.T) {
	a := DefaultAttacker()
	for _, c := range []struct {
		name string
		p    luks.PBKDF
		key  int
		want float64 // one card, guesses a second
	}{
		// cryptsetup's default: 1 GiB, 4 passes. 1792e9 x 0.95 / ((3x4-1) x 1048576 x 1024)
		// = 1.7024e12 / 11,811,160,064 = 144.13487 (lanes do not matter)
		{"argon2id 1GiB t4", luks.PBKDF{Type: "argon2id", MemoryKiB: 1048576, Iterations: 4, Parallel: 4}, 64, 144.13486827503550},
		{"argon2id 1GiB t4 p1", luks.PBKDF{Type: "argon2id", MemoryKiB: 1048576, Iterations: 4, Parallel: 1}, 64, 144.13486827503550},
		// 64 MiB, 3 passes: 1.7024e12 / (8 x 65536 x 1024 = 536,870,912) = 3170.96709
		{"argon2i 64MiB t3", luks.PBKDF{Type: "argon2i", MemoryKiB: 65536, Iterations: 3, Parallel: 4}, 32, 3170.9671020507812},
		// PBKDF2-SHA256, 1,000,000 iterations, 64-byte key (two blocks): 28.3533e9 / (2 x 1e6 x 2) = 7088.325
		{"pbkdf2 sha256", luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000000}, 64, 7088.325},
		// a 32-byte key is one block: 14176.65
		{"pbkdf2 sha256 32", luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000000}, 32, 14176.65},
		// PBKDF2-SHA512: (28.3533e9 / 3) / (2 x 1e6 x 1) = 4725.55
		{"pbkdf2 sha512", luks.PBKDF{Type: "pbkdf2", Hash: "sha512", Iterations: 1000000}, 64, 4725.55},
		{"unknown", luks.PBKDF{Type: "scrypt"}, 64, 0},
	} {
		if got := a.PerCard(c.p, c.key); !near(got, c.want) {
			t.Errorf("%s: %.6f guesses/s a card, want %.6f", c.name, got, c.want)
		}
		if got := a.PerSecond(c.p, c.key); !near(got, 100*c.want) {
			t.Errorf("%s: %.3f guesses/s in all, want %.3f", c.name, got, 100*c.want)
		}
	}
}

// The estimates on known passphrases at cryptsetup's default cost: zxcvbn's guesses
// (pinned by its version in go.mod) over 14,413.487 guesses a second.
func TestCheck(t *testing.T) {
	def := luks.PBKDF{Type: "argon2id", MemoryKiB: 1048576, Iterations: 4, Parallel: 4}
	en := i18n.New("en")
	for _, c := range []struct {
		pass    string
		guesses float64
		score   int
		weak    bool
		say     string
	}{
		// "password": rank 2 in zxcvbn's list: 3 guesses, 0.0002 s
		{"password", 3, 0, true, "Someone with 100 graphics cards would guess it almost at once."},
		// 1.906e11 guesses / 14,413.487 /s = 1.3224e7 s = 5.03 months: score 4, but under a year
		{"travelkit-demo", 1.9060001e11, 4, true, "Someone with 100 graphics cards would need about 5 months to guess it."},
		// 1e16 (16 characters zxcvbn cannot explain) / 14,413.487 = 6.938e11 s = 21,985 years
		{"kX9#mQ2$vL7!pR4z", 1e16, 4, false, "Someone with 100 graphics cards would need about 22,000 years to guess it."},
		// a file's trailing newline is not counted
		{"kX9#mQ2$vL7!pR4z\n", 1e16, 4, false, ""},
		{"letmein123456", 15000, 1, true, "Someone with 100 graphics cards would guess it almost at once."},
		{"correct horse battery staple", 2.13811969e20, 4, false, "Someone with 100 graphics cards would need about 470 million years to guess it."},
	} {
		e := Check([]byte(c.pass), def, 64, DefaultAttacker(), nil)
		if math.Abs(e.Guesses-c.guesses) > 1e-4*c.guesses || e.Score != c.score || e.Weak() != c.weak {
			t.Errorf("%q: %.5g guesses, score %d, weak %v; want %.5g, %d, %v", c.pass, e.Guesses, e.Score, e.Weak(), c.guesses, c.score, c.weak)
		}
		if !near(e.Seconds, e.Guesses/14413.486827503550) {
			t.Errorf("%q: %.6g s, want %.6g", c.pass, e.Seconds, e.Guesses/14413.486827503550)
		}
		if c.say != "" && e.Describe(en) != c.say {
			t.Errorf("%q: %q, want %q", c.pass, e.Describe(en), c.say)
		}
	}
	// The same passphrase on a cheap KDF (a test profile's 64 KiB, 4 passes) is far weaker:
	// 1.7024e12 / (11 x 65536 = 720,896) = 2,361,505 a card; 1.906e11 / 2.3615e8 = 807 s
	cheap := Check([]byte("travelkit-demo"), luks.PBKDF{Type: "argon2id", MemoryKiB: 64, Iterations: 4, Parallel: 1}, 64, DefaultAttacker(), nil)
	if !near(cheap.Seconds, 1.9060001e11/(1.7024e12/(11*65536)*100)) || cheap.Describe(en) != "Someone with 100 graphics cards would need about 13 minutes to guess it." {
		t.Errorf("cheap KDF: %.6g s, %q", cheap.Seconds, cheap.Describe(en))
	}
	// the kit's name is the first thing an attacker tries
	with := Check([]byte("amina-2026-12-travel"), def, 64, DefaultAttacker(), []string{"amina-2026-12"})
	without := Check([]byte("amina-2026-12-travel"), def, 64, DefaultAttacker(), nil)
	if with.Guesses >= without.Guesses {
		t.Errorf("the kit's name did not lower the estimate: %.4g >= %.4g", with.Guesses, without.Guesses)
	}
	// bytes that are not text: ten guesses each
	if e := Check([]byte{0xff, 0xfe, 0x00, 0x81}, def, 64, DefaultAttacker(), nil); e.Guesses != 1e4 || e.Score != 1 {
		t.Errorf("binary: %v", e)
	}
	// an unknown KDF: no rate, no time; the score still decides
	if e := Check([]byte("kX9#mQ2$vL7!pR4z"), luks.PBKDF{Type: "scrypt"}, 64, DefaultAttacker(), nil); !math.IsInf(e.Seconds, 1) || e.Weak() {
		t.Errorf("unknown KDF: %+v", e)
	}
	// a very long passphrase is judged by its first 100 characters, quickly
	long := strings.Repeat("ab", 5000)
	if e := Check([]byte(long), def, 64, DefaultAttacker(), nil); e.Guesses <= 0 {
		t.Errorf("long: %+v", e)
	}
}

func TestDuration(t *testing.T) {
	en, ru, ar := i18n.New("en"), i18n.New("ru"), i18n.New("ar")
	for _, c := range []struct {
		s    float64
		want string
	}{
		{30, "less than a minute"}, {60, "1 minute"}, {3599, "59 minutes"}, {3600, "1 hour"},
		{86400 * 3, "3 days"}, {Year / 12 * 11, "11 months"}, {Year, "1 year"}, {Year * 21985, "22,000 years"},
		{Year * 123456, "120,000 years"}, {Year * 4.2e6, "4 million years"}, {Year * 2e9, "more than a billion years"},
	} {
		if got := Duration(en, c.s); got != c.want {
			t.Errorf("%g s: %q, want %q", c.s, got, c.want)
		}
	}
	if got := Duration(ru, 86400*5); got != "5 дней" {
		t.Errorf("ru: %q", got)
	}
	if got := Duration(ar, 86400*2); got != "يومان" {
		t.Errorf("ar: %q", got)
	}
	e := Estimate{Seconds: 86400 * 3, GPUs: 100}
	if got := e.Describe(i18n.New("fa")); !strings.Contains(got, "۱۰۰ کارت گرافیک") || !strings.Contains(got, "۳ روز") {
		t.Errorf("fa: %q", got)
	}
}

func TestWordList(t *testing.T) {
	sum := sha256.Sum256(effList)
	if got := hex.EncodeToString(sum[:]); got != "addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e" {
		t.Fatalf("eff_large_wordlist.txt changed: sha256 %s", got)
	}
	w := words()
	if len(w) != 7776 || w[0] != "abacus" || w[7775] != "zoom" {
		t.Fatalf("%d words, %q..%q", len(w), w[0], w[len(w)-1])
	}
}

func TestDiceware(t *testing.T) {
	seen := map[string]bool{}
	list := map[string]bool{}
	for _, w := range words() {
		list[w] = true
	}
	def := luks.PBKDF{Type: "argon2id", MemoryKiB: 1048576, Iterations: 4, Parallel: 4}
	for i := 0; i < 50; i++ {
		p, err := Diceware(DicewareWords)
		if err != nil {
			t.Fatal(err)
		}
		ws := strings.Split(p, " ")
		if len(ws) != DicewareWords {
			t.Fatalf("%q: %d words", p, len(ws))
		}
		for _, w := range ws {
			if !list[w] {
				t.Fatalf("%q: %q is not in the list", p, w)
			}
		}
		if seen[p] {
			t.Fatalf("%q twice", p)
		}
		seen[p] = true
		// what we offer passes our own floor, also on a cheap KDF
		for _, cost := range []luks.PBKDF{def, {Type: "argon2id", MemoryKiB: 64, Iterations: 4, Parallel: 1}} {
			if e := Check([]byte(p), cost, 64, DefaultAttacker(), nil); e.Weak() {
				t.Errorf("%q is weak: %+v", p, e)
			}
		}
	}
	if _, err := Diceware(0); err == nil {
		t.Error("0 words")
	}
}
