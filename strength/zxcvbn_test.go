package strength

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/frequency"
)

// corpus is a fixed, seeded set of passwords shaped to hit every matcher: list words
// capitalised, reversed, in l33t, with years, dates and digits, keyboard walks, repeats
// and sequences, diceware passphrases, random strings over ASCII, l33t characters,
// separators, newlines and non-Latin letters and digits.
func corpus(n int) []string {
	r := rand.New(rand.NewPCG(14, 10))
	var lists [][]string
	for _, name := range []string{"passwords", "english_wikipedia", "female_names", "male_names", "surnames", "us_tv_and_film"} {
		lists = append(lists, frequency.FrequencyLists[name])
	}
	word := func() string {
		l := lists[r.IntN(len(lists))]
		if r.IntN(2) == 0 {
			return l[r.IntN(min(len(l), 2000))]
		}
		return l[r.IntN(len(l))]
	}
	leet := map[byte]string{'a': "4@", 'b': "8", 'c': "({[<", 'e': "3", 'g': "69", 'i': "1!|",
		'l': "1|7", 'o': "0", 's': "$5", 't': "+7", 'x': "%", 'z': "2"}
	l33tify := func(w string) string {
		b := []byte(w)
		for i, c := range b {
			if s, ok := leet[c]; ok && r.IntN(3) > 0 {
				b[i] = s[r.IntN(len(s))]
			}
		}
		return string(b)
	}
	walks := []string{"qwerty", "asdfgh", "zxcvbn", "1qaz2wsx", "qazwsx", "poiuyt", "!QAZ@WSX", "7410", "8520", "147258369", "aoeuidhtns", ",.pyfgcrl", "qwER43@!", "mju7", "/*-+", "963.", "zaq12wsx"}
	pieces := []func() string{
		word,
		func() string { w := word(); return strings.ToUpper(w[:1]) + w[1:] },
		func() string { return strings.ToUpper(word()) },
		func() string { return reverseRunes(word()) },
		func() string { return l33tify(word()) },
		func() string { return fmt.Sprint(1900 + r.IntN(150)) },
		func() string { return fmt.Sprint(r.IntN(100000)) },
		func() string {
			seps := []string{"", "", "-", "/", ".", "_", " ", "\\", "\n"}
			s := seps[r.IntN(len(seps))]
			d, m, y := 1+r.IntN(31), 1+r.IntN(12), 1950+r.IntN(80)
			switch r.IntN(4) {
			case 0:
				return fmt.Sprintf("%02d%s%02d%s%d", d, s, m, s, y)
			case 1:
				return fmt.Sprintf("%d%s%d%s%02d", y, s, m, s, d)
			case 2:
				return fmt.Sprintf("%d%s%d%s%02d", m, s, d, s, y%100)
			}
			return fmt.Sprintf("%d%s%d%s%d", d, s, m, s, y%100)
		},
		func() string { return walks[r.IntN(len(walks))] },
		func() string { return strings.Repeat(word()[:1+r.IntN(2)], 2+r.IntN(4)) },
		func() string { return strings.Repeat(l33tify(word()), 2) },
		func() string {
			seqs := []string{"abcdef", "123456", "97531", "zyxw", "ACEG", "13579", "acegi", "9876", "mnopq"}
			s := seqs[r.IntN(len(seqs))]
			return s[:3+r.IntN(len(s)-2)]
		},
		func() string { return words()[r.IntN(len(words()))] },
		func() string {
			const alpha = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 !@#$%^&*()_+-=[]{}|;:,.<>/?~4@8({[<3691!|7$5+%2\n\t"
			b := make([]byte, 1+r.IntN(12))
			for i := range b {
				b[i] = alpha[r.IntN(len(alpha))]
			}
			return string(b)
		},
		func() string {
			odd := []string{"é", "ß", "й", "пароль", "ж", "١٢٣٤", "۱۳۹۹", "١", "٢٠٠٠", "日本", "😀", "İ", "ǅ", "\u00a0", "\u2003", "٫", "жжж", "éé"}
			return odd[r.IntN(len(odd))]
		},
	}
	seps := []string{"", "", "", " ", "-", ".", "_", "1", "!"}
	out := []string{"", "a", "password", "Password1", "p@ssw0rd", "P4$$w0rd!1", "correct horse battery staple",
		"Tr0ub4dor&3", "aaaaaaaaaa", "abcabcabcabc", "aabaabaabaab", "11/11/1991", "1991-11-01", "ййййй"}
	for len(out) < n {
		k := 1 + r.IntN(5)
		sep := seps[r.IntN(len(seps))]
		var b strings.Builder
		for i := 0; i < k; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(pieces[r.IntN(len(pieces))]())
		}
		out = append(out, b.String())
	}
	return out
}

var corpusSize = flag.Int("zxcvbn.corpus", 1000, "passwords TestSameAsModule compares")

// TestSameAsModule compares our matching with the module's zxcvbn.PasswordStrength on
// every password of the corpus, with and without words the attacker tries first.
//
// Read the paper's way (l33tSubs), the guesses and score are the module's whenever the
// password has l33t characters for at most three letters. With four or more, the
// module's enumeration appends to shared slices: some readings are lost, others get two
// characters for one letter. The shipped reading (l33tReadings: every character as it
// is or as any of its letters) holds all of those, so its guesses must never be above
// the module's: a passphrase the module calls weak stays weak.
func TestSameAsModule(t *testing.T) {
	n := *corpusSize
	if testing.Short() {
		n = min(n, 300)
	}
	shipped := l33tModes
	defer func() { l33tModes = shipped }()
	users := [][]string{nil, {"Amina", "travel kit", "ahmed", "Zeynep2024", "пароль"}}
	bad, stricter, paper, odd := 0, 0, 0, 0
	for k, pw := range corpus(n) {
		if len([]rune(pw)) > maxRunes {
			continue
		}
		u := users[k%2]
		want := zxcvbn.PasswordStrength(pw, u)
		l33tModes = 1
		g, s := zxcvbnGuesses(pw, u)
		if (g != want.Guesses || s != want.Score) && l33tLetters(pw) <= 3 {
			bad++
			if bad <= 20 {
				t.Errorf("%q (user inputs %q), l33t read the paper's way: guesses %g score %d, module %g score %d", pw, u, g, s, want.Guesses, want.Score)
			}
		} else if g != want.Guesses {
			paper++
		}
		l33tModes = shipped
		g, s = zxcvbnGuesses(pw, u)
		switch {
		case (g > want.Guesses || s > want.Score) && !consistent(want):
			odd++
		case g > want.Guesses || s > want.Score:
			bad++
			if bad <= 20 {
				t.Errorf("%q (user inputs %q): guesses %g score %d, above the module's %g score %d", pw, u, g, s, want.Guesses, want.Score)
			}
		case g < want.Guesses:
			stricter++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d passwords differ", bad, n)
	}
	t.Logf("%d passwords: %d differ; read the paper's way %d differ (all with l33t characters for 4+ letters); shipped: %d below the module's guesses (more l33t readings), %d above a module result that is not its own sequence's count", n, bad, paper, stricter, odd)
}

// consistent: the module's guess count is its own sequence's, l! x the product of the
// matches' guesses + 10000^(l-1) (zxcvbn's formula). Its search reads the count for the
// sequence's length, not the length it unwound ("+l--" over missing lengths), so with
// some matches (characters of two bytes or more) it returns another length's count or 0.
func consistent(r zxcvbn.Result) bool {
	l := len(r.Sequence)
	if l == 0 {
		return true
	}
	want := 1.0
	for k := 2; k <= l; k++ {
		want *= float64(k)
	}
	for _, m := range r.Sequence {
		want *= m.Guesses
	}
	want += math.Pow(10000, float64(l-1))
	return math.Abs(r.Guesses-want) <= 1e-9*want
}

// l33tLetters counts the letters of the l33t table that a character of pw can stand for.
func l33tLetters(pw string) int {
	n := 0
	for _, l := range l33t {
		if strings.ContainsAny(pw, l.subs) {
			n++
		}
	}
	return n
}

// TestModuleMatchingNotLinked: the binary must not link the module's matching package,
// whose init builds every dictionary (~10 MB) for every command, nor its frequency
// package, whose init copies the word lists into the heap.
func TestModuleMatchingNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "travelkit/cmd/travelkit").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/trustelem/zxcvbn" || p == "github.com/trustelem/zxcvbn/matching" {
			t.Errorf("cmd/travelkit links %s: its init builds zxcvbn's dictionaries in every command", p)
		}
		if p == "github.com/trustelem/zxcvbn/frequency" {
			t.Errorf("cmd/travelkit links %s: its init copies zxcvbn's word lists into the heap (1.5 MB) in every command; strength embeds them (frequency.txt)", p)
		}
	}
}

func BenchmarkOurs(b *testing.B) {
	c := corpus(500)
	zxcvbnGuesses("warm", nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, pw := range c {
			zxcvbnGuesses(pw, nil)
		}
	}
}

func BenchmarkModule(b *testing.B) {
	c := corpus(500)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, pw := range c {
			zxcvbn.PasswordStrength(pw, nil)
		}
	}
}
