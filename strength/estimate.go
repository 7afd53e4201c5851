package strength

import (
	"bytes"
	"math"
	"unicode/utf8"

	"travelkit/i18n"
	"travelkit/luks"
)

// Year is a year in seconds (365.25 days).
const Year = 365.25 * 24 * 3600

// MinScore and MinSeconds are the floor a kit passphrase must reach (unless the person
// insists, with --allow-weak-passphrase): a zxcvbn score of 3, and a year against the
// DefaultAttacker at the kit's own KDF cost.
const (
	MinScore   = 3
	MinSeconds = Year
)

// maxRunes bounds what zxcvbn looks at: its matching grows faster than the length, and a
// passphrase longer than this is judged by its start (a lower bound on its strength).
const maxRunes = 100

// Estimate is how a passphrase fares against an attacker at a KDF cost.
type Estimate struct {
	Guesses   float64 // zxcvbn's estimate of the guesses needed
	Score     int     // zxcvbn's score, 0 (too guessable) to 4 (very unguessable)
	PerSecond float64 // the attacker's guesses a second against this cost
	Seconds   float64 // Guesses / PerSecond (+Inf when the cost is unknown)
	GPUs      int
}

// Weak reports whether the estimate is below the floor.
func (e Estimate) Weak() bool { return e.Score < MinScore || e.Seconds < MinSeconds }

// Check estimates pass against the attacker, at the KDF cost p of a keyslot holding a key
// of keyBytes bytes (a kit: the passphrase keyslot's, from its header). userInputs are
// words the attacker would try first (the kit's name, the colleagues' names). One
// trailing newline (a passphrase file's) is not counted.
func Check(pass []byte, p luks.PBKDF, keyBytes int, a Attacker, userInputs []string) Estimate {
	pass = bytes.TrimSuffix(pass, []byte("\n"))
	pass = bytes.TrimSuffix(pass, []byte("\r"))
	e := Estimate{PerSecond: a.PerSecond(p, keyBytes), GPUs: a.GPUs}
	e.Guesses, e.Score = guesses(pass, userInputs)
	e.Seconds = math.Inf(1)
	if e.PerSecond > 0 {
		e.Seconds = e.Guesses / e.PerSecond
	}
	return e
}

// guesses runs zxcvbn on the passphrase (its first maxRunes characters). Bytes that are
// not UTF-8 (a key file) count as zxcvbn counts a character it knows nothing of: ten
// guesses each.
func guesses(pass []byte, userInputs []string) (float64, int) {
	if !utf8.Valid(pass) {
		g := math.Pow(10, float64(len(pass)))
		return g, scoreOf(g)
	}
	n := 0
	for i := range string(pass) {
		if n == maxRunes {
			pass = pass[:i]
			break
		}
		n++
	}
	return zxcvbnGuesses(string(pass), userInputs)
}

// scoreOf is zxcvbn's score for a guess count (its thresholds).
func scoreOf(g float64) int {
	switch {
	case g < 1e3+5:
		return 0
	case g < 1e6+5:
		return 1
	case g < 1e8+5:
		return 2
	case g < 1e10+5:
		return 3
	}
	return 4
}

// Describe says in plain words how long the attacker would need: "Someone with 100
// graphics cards would need about 3 days to guess it."
func (e Estimate) Describe(p *i18n.Printer) string {
	switch {
	case e.Seconds < 60:
		return p.T("strength.instant", e.GPUs)
	case e.Seconds >= 1e9*Year:
		return p.T("strength.forever", e.GPUs)
	}
	return p.T("strength.time", Duration(p, e.Seconds), e.GPUs)
}

// Duration writes a length of time in round words: "3 days", "11 months", "22,000 years",
// "4 million years" (two significant digits). Below a minute it is "less than a minute".
func Duration(p *i18n.Printer, seconds float64) string {
	const (
		minute = 60.0
		hour   = 60 * minute
		day    = 24 * hour
		month  = Year / 12
	)
	switch {
	case math.IsNaN(seconds) || seconds < minute:
		return p.T("time.lessminute")
	case seconds < hour:
		return p.T("time.minutes", int(seconds/minute))
	case seconds < day:
		return p.T("time.hours", int(seconds/hour))
	case seconds < month:
		return p.T("time.days", int(seconds/day))
	case seconds < Year:
		return p.T("time.months", int(seconds/month))
	case seconds < 1e6*Year:
		return p.T("time.years", round2(seconds/Year))
	case seconds < 1e9*Year:
		return p.T("time.millionyears", round2(seconds/(1e6*Year)))
	}
	return p.T("time.billion")
}

// round2 rounds to two significant digits from 100 on (21985 -> 22000); below, it keeps
// the whole number.
func round2(x float64) int {
	if x < 100 {
		return int(x)
	}
	e := math.Pow(10, math.Floor(math.Log10(x))-1)
	return int(math.Round(x/e) * e)
}
