package strength

import (
	_ "embed"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/trustelem/zxcvbn/match"
	"github.com/trustelem/zxcvbn/scoring"
)

// This file and matchers.go are zxcvbn's pattern matching (Wheeler, "zxcvbn: Low-Budget
// Password Strength Estimation", USENIX Security 2016): every way a part of the passphrase
// could be guessed (a ranked dictionary word, reversed or in l33t, a keyboard walk, a
// repeat, a sequence, a recent year, a date) becomes a match, and the module's scoring
// package picks the sequence of matches that takes the fewest guesses.
//
// The module's own matching package builds every ranked dictionary (about 10 MB of maps,
// 30-150 ms) in its package init, so every command, backups and restores included, paid
// for it although only a passphrase check needs it. Here the dictionaries are built on
// the first check (sync.Once). The results are the module's: the tests compare guesses
// and score with zxcvbn.PasswordStrength over a seeded corpus (equal, but for l33t
// readings: ours holds every reading the module's finds and more, so a guess count is
// never above the module's), and a test fails if the shipped binary links the module's
// matching package again.

// zxcvbnGuesses is zxcvbn's guess count and score for a valid UTF-8 password.
func zxcvbnGuesses(password string, userInputs []string) (float64, int) {
	r := bestSequence(password, userInputs)
	return r.Guesses, scoreOf(r.Guesses)
}

// bestSequence is the sequence of matches that takes the fewest guesses, searched by
// the module's scoring with the l33t readings of the paper (the module's, l33tSubs) and
// again with every reading (l33tTokenMatches), the fewer guesses kept: the search is not
// monotonic (a match more can end it on a costlier sequence), so the first search is
// the module's own.
func bestSequence(password string, userInputs []string) scoring.Result {
	d := dictionaries{ranked: ranked(), user: rankList(userInputs)}
	var common []*match.Match
	common = d.matches(password, common)
	common = d.reversedMatches(password, common)
	common = spatialMatches(password, common)
	common = repeatMatches(password, common)
	common = sequenceMatches(password, common)
	common = yearMatches(password, common)
	common = dateMatches(password, common)
	var best scoring.Result
	for k := range l33tModes {
		ms := append([]*match.Match(nil), common...)
		if k == 0 {
			ms = d.l33tMatches(password, l33tSubs, ms)
		} else {
			ms = d.l33tTokenMatches(password, ms)
		}
		match.Sort(ms)
		r := scoring.MostGuessableMatchSequence(password, ms, false)
		if k == 0 || r.Guesses < best.Guesses {
			best = r
		}
	}
	return best
}

// l33tModes is how many l33t searches bestSequence makes: the paper's readings, then
// every reading (tests set 1 to compare with the module).
var l33tModes = 2

var (
	rankedOnce  sync.Once
	rankedWords rankedDict
)

// rankedDict maps a lower-case word to its best rank (1 = most common) in any of the
// frequency lists, and the length in runes of its longest word.
type rankedDict struct {
	rank     map[string]rankIn
	maxRunes int
}

// rankIn is a word's best rank and the last list that ranked it (while building).
type rankIn struct {
	rank int32
	list int32
}

// frequencyText is zxcvbn's ranked frequency lists (the module's frequency package, as
// go.mod pins it), written by ./internal/freqgen: each list a line "list: NAME", then its
// words one a line, in rank order. Embedded, the text is read-only data of the binary;
// the module's package, linked, copied its 94,000 strings into the heap (1.5 MB) at every
// start. The tests compare it with the module's lists.
//
//go:embed frequency.txt
var frequencyText string

// frequencyLists yields the lists of frequencyText, each as its words (substrings of
// the text, in order) in one slice reused from list to list; the names are dropped, as
// nothing ranks by them.
func frequencyLists(yield func([]string) bool) {
	var words []string
	rest := frequencyText
	for rest != "" {
		// a list: its name's line, then its words up to the next name or the end
		_, rest, _ = strings.Cut(rest, "\n")
		block := rest
		if i := strings.Index(rest, "\nlist: "); i >= 0 {
			block, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = ""
		}
		words = slices.Grow(words[:0], strings.Count(block, "\n"))
		for block != "" {
			var w string
			w, block, _ = strings.Cut(block, "\n")
			words = append(words, w)
		}
		if !yield(words) {
			return
		}
	}
}

// ranked builds the merged ranked dictionary once, on first use. A word's rank in one
// list is the position of its last occurrence there (as zxcvbn ranks a list); across
// lists the best rank counts, since the cheapest explanation of a token is the one the
// search keeps.
func ranked() *rankedDict {
	rankedOnce.Do(func() { rankedWords = rankLists(frequencyLists, strings.Count(frequencyText, "\n")) })
	return &rankedWords
}

// rankLists merges ranked lists as ranked describes; n is about how many words they
// hold (the map's first size).
func rankLists(lists iter.Seq[[]string], n int) rankedDict {
	d := rankedDict{rank: make(map[string]rankIn, n)}
	list := int32(0)
	for words := range lists {
		list++
		for i := len(words) - 1; i >= 0; i-- {
			w := strings.ToLower(words[i])
			s, ok := d.rank[w]
			if ok && s.list == list {
				continue // a later occurrence in this list already ranked it
			}
			if r := int32(i + 1); !ok || r < s.rank {
				s.rank = r
			}
			s.list = list
			d.rank[w] = s
			if c := runeCount(w); c > d.maxRunes {
				d.maxRunes = c
			}
		}
	}
	return d
}

// rankList ranks words as zxcvbn ranks a list: lower-cased, by the position of the
// last occurrence.
func rankList(words []string) rankedDict {
	d := rankedDict{rank: make(map[string]rankIn, len(words))}
	for i, w := range words {
		w = strings.ToLower(w)
		d.rank[w] = rankIn{rank: int32(i + 1)}
		if c := runeCount(w); c > d.maxRunes {
			d.maxRunes = c
		}
	}
	return d
}

// runeCount counts runes as ranging over the string does (an invalid byte is one).
func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
