package strength

import (
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/trustelem/zxcvbn/adjacency"
	"github.com/trustelem/zxcvbn/match"
	"github.com/trustelem/zxcvbn/scoring"
)

// The matchers below work on byte offsets (I and J are the offsets of the first and of
// the last character's first byte, as the scoring package expects) and reproduce the
// module's results exactly, quirks included: a dictionary token ends at the first byte of
// its last character, sequences, keyboard walks and dates look at bytes, repeats and the
// date patterns at characters (\d and \s in their Unicode sense).

// dictionaries is what dictionary matching looks words up in: the frequency lists and
// the words given for this check (the kit's name, colleagues' names).
type dictionaries struct {
	ranked *rankedDict
	user   rankedDict
}

// lookup is the best rank of a lower-case word, 0 when no list has it.
func (d dictionaries) lookup(word string) int {
	best := int32(0)
	if r, ok := d.ranked.rank[word]; ok {
		best = r.rank
	}
	if r, ok := d.user.rank[word]; ok && (best == 0 || r.rank < best) {
		best = r.rank
	}
	return int(best)
}

// matches appends a dictionary match for every substring whose lower case is a word.
// Of the lists that hold a word only the best rank is kept: the others would cost more
// guesses for the same token, and the search keeps the cheapest.
func (d dictionaries) matches(password string, out []*match.Match) []*match.Match {
	return d.matchesWith(password, nil, out)
}

// matchesWith is matches, only for the substrings [i, j] with j >= from[i] (from nil:
// all of them).
func (d dictionaries) matchesWith(password string, from []int, out []*match.Match) []*match.Match {
	maxRunes := max(d.ranked.maxRunes, d.user.maxRunes)
	for i := range password {
		n := 0
		for off := range password[i:] {
			if n++; n > maxRunes {
				break
			}
			j := i + off
			if from != nil && j < from[i] {
				continue
			}
			token := password[i : j+1]
			word := strings.ToLower(token)
			if r := d.lookup(word); r > 0 {
				out = append(out, &match.Match{Pattern: "dictionary", I: i, J: j, Token: token,
					MatchedWord: word, Rank: r, DictionaryName: "ranked"})
			}
		}
	}
	return out
}

// reversedMatches appends the dictionary words the password holds written backwards.
func (d dictionaries) reversedMatches(password string, out []*match.Match) []*match.Match {
	first := len(out)
	out = d.matches(reverseRunes(password), out)
	last := len(password) - 1
	for _, m := range out[first:] {
		m.Token = reverseRunes(m.Token)
		m.Reversed = true
		m.I, m.J = last-m.J, last-m.I
	}
	return out
}

func reverseRunes(s string) string {
	r := []rune(s)
	for a, b := 0, len(r)-1; a < b; a, b = a+1, b-1 {
		r[a], r[b] = r[b], r[a]
	}
	return string(r)
}

// l33t is the table of substitutions: a letter and the characters written for it.
var l33t = []struct {
	letter byte
	subs   string
}{
	{'a', "4@"}, {'b', "8"}, {'c', "({[<"}, {'e', "3"}, {'g', "69"}, {'i', "1!|"},
	{'l', "1|7"}, {'o', "0"}, {'s', "$5"}, {'t', "+7"}, {'x', "%"}, {'z', "2"},
}

// sub is one substitution in use: character c stands for letter.
type sub struct{ c, letter byte }

// l33tSubs lists the ways of reading the password's l33t characters back as letters:
// letter by letter (in alphabetical order), each of the letter's characters present is
// added to every way so far; when the character already stands for another letter, the
// way is kept as it is and also copied with the character moved to the new letter.
// Ways that hold the same substitutions are kept once.
func l33tSubs(password string) [][]sub {
	ways := [][]sub{nil}
	for _, l := range l33t {
		var next [][]sub
		for k := 0; k < len(l.subs); k++ {
			c := l.subs[k]
			if strings.IndexByte(password, c) < 0 {
				continue
			}
			for _, w := range ways {
				at := -1
				for x, s := range w {
					if s.c == c {
						at = x
						break
					}
				}
				if at < 0 {
					ext := make([]sub, len(w), len(w)+1)
					copy(ext, w)
					next = append(next, append(ext, sub{c, l.letter}))
					continue
				}
				alt := make([]sub, 0, len(w))
				alt = append(alt, w[:at]...)
				alt = append(alt, w[at+1:]...)
				next = append(next, w, append(alt, sub{c, l.letter}))
			}
		}
		if next == nil {
			continue // none of this letter's characters is in the password
		}
		seen := make(map[string]bool, len(next))
		ways = ways[:0:0]
		for _, w := range next {
			key := subsKey(w)
			if !seen[key] {
				seen[key] = true
				ways = append(ways, w)
			}
		}
	}
	if len(ways) == 1 && len(ways[0]) == 0 {
		return nil
	}
	return ways
}

func subsKey(w []sub) string {
	s := append([]sub(nil), w...)
	sort.Slice(s, func(a, b int) bool { return s[a].c < s[b].c })
	b := make([]byte, 0, 2*len(s))
	for _, x := range s {
		b = append(b, x.c, x.letter)
	}
	return string(b)
}

// maxReadings bounds the readings of one token that l33tTokenMatches tries.
const maxReadings = 4096

// l33tTokenMatches appends the dictionary words found when l33t characters are read as
// letters, trying for every substring of the password every reading of its l33t
// characters: each stays as it is or stands for one of its letters ('1' for i or l),
// the same one wherever it occurs in the substring, at least one substituted. This is
// every reading the module's enumeration can end up with, the paper's (l33tSubs) and the
// ones its shared slices produce (two characters for one letter: "yv3+73" for yvette).
// A substring with more than maxReadings readings is left to the paper's.
func (d dictionaries) l33tTokenMatches(password string, out []*match.Match) []*match.Match {
	type choice struct {
		c       byte
		letters []byte
	}
	letters := func(c byte) []byte {
		var ls []byte
		for _, l := range l33t {
			if strings.IndexByte(l.subs, c) >= 0 {
				ls = append(ls, l.letter)
			}
		}
		return ls
	}
	maxRunes := max(d.ranked.maxRunes, d.user.maxRunes)
	var buf []byte
	for i := range password {
		var cs []choice
		total, n := 1, 0
		for off := range password[i:] {
			if n++; n > maxRunes {
				break
			}
			j := i + off
			if c := password[j]; c < 0x80 {
				seen := false
				for _, x := range cs {
					seen = seen || x.c == c
				}
				if ls := letters(c); !seen && ls != nil {
					cs = append(cs, choice{c, ls})
					total *= 1 + len(ls)
				}
			}
			token := password[i : j+1]
			if len(cs) == 0 || len(token) <= 1 || total > maxReadings {
				continue
			}
			lower := strings.ToLower(token)
			pick := make([]int, len(cs)) // 0: as it is; k: letters[k-1]
			for r := 1; r < total; r++ {
				for x := range pick { // the next reading, counting in mixed radix
					if pick[x]++; pick[x] <= len(cs[x].letters) {
						break
					}
					pick[x] = 0
				}
				buf = append(buf[:0], token...)
				for k := range buf {
					for x, p := range pick {
						if p > 0 && buf[k] == cs[x].c {
							buf[k] = cs[x].letters[p-1]
							break
						}
					}
				}
				word := strings.ToLower(string(buf))
				if word == lower {
					continue
				}
				rank := d.lookup(word)
				if rank == 0 {
					continue
				}
				m := &match.Match{Pattern: "dictionary", I: i, J: j, Token: token, MatchedWord: word,
					Rank: rank, DictionaryName: "ranked", L33t: true, Sub: map[string]string{}}
				for x, p := range pick {
					if p > 0 {
						m.Sub[string(cs[x].c)] = string(cs[x].letters[p-1])
					}
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// l33tMatches appends the dictionary words found once l33t characters are read as the
// letters they stand for (p4ssw0rd), of two characters or more, that needed a
// substitution.
func (d dictionaries) l33tMatches(password string, readings func(string) [][]sub, out []*match.Match) []*match.Match {
	from := make([]int, len(password))
	for _, w := range readings(password) {
		b := []byte(password)
		next := len(password)
		for x := len(b) - 1; x >= 0; x-- {
			for _, s := range w {
				if b[x] == s.c {
					b[x] = s.letter
					next = x
					break
				}
			}
			from[x] = next
		}
		// a token without a substituted character is a plain dictionary match (or none)
		found := d.matchesWith(string(b), from, nil)
		for _, m := range found {
			token := password[m.I : m.J+1]
			if len(token) <= 1 || strings.ToLower(token) == m.MatchedWord {
				continue
			}
			m.Sub = make(map[string]string)
			for _, s := range w {
				if strings.IndexByte(token, s.c) >= 0 {
					m.Sub[string(s.c)] = string(s.letter)
				}
			}
			m.L33t = true
			m.Token = token
			out = append(out, m)
		}
	}
	return out
}

// spatialGraphs are the keyboards walked, in zxcvbn's order; shiftedKeys are the
// characters typed with shift on the two typing keyboards.
var spatialGraphs = []string{"qwerty", "dvorak", "keypad", "mac_keypad"}

const shiftedKeys = `~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?`

// spatialMatches appends every walk of three keys or more along a keyboard, with its
// turns (changes of direction) and shifted keys.
func spatialMatches(password string, out []*match.Match) []*match.Match {
	for _, name := range spatialGraphs {
		g := adjacency.Graphs[name]
		if g == nil || g.Graph == nil {
			continue
		}
		shiftable := name == "qwerty" || name == "dvorak"
		for i := 0; i < len(password)-1; {
			j := i + 1
			lastDir, turns, shifted := -1, 0, 0
			if shiftable && strings.IndexByte(shiftedKeys, password[i]) >= 0 {
				shifted = 1
			}
			for {
				found := false
				if j < len(password) && password[j-1] < 0x80 && password[j] < 0x80 {
					for dir, keys := range g.Graph[password[j-1:j]] {
						at := strings.IndexByte(keys, password[j])
						if at < 0 {
							continue
						}
						found = true
						if at == 1 {
							shifted++
						}
						if dir != lastDir {
							turns++
							lastDir = dir
						}
						break
					}
				}
				if found {
					j++
					continue
				}
				if j-i > 2 {
					out = append(out, &match.Match{Pattern: "spatial", I: i, J: j - 1,
						Token: password[i:j], Graph: name, Turns: turns, ShiftedCount: shifted})
				}
				i = j
				break
			}
		}
	}
	return out
}

// repeatMatches appends the repeated runs (aaa, abcabc): from the left, the longest
// repeat of the shortest unit that repeats, and the guesses of that unit on its own.
// Characters, not bytes, repeat; a unit never holds a newline.
func repeatMatches(password string, out []*match.Match) []*match.Match {
	rs := []rune(password)
	at := make([]int, 0, len(rs)+1) // byte offset of each character
	for i := range password {
		at = append(at, i)
	}
	at = append(at, len(password))
	for last := 0; last < len(password); {
		start := sort.SearchInts(at, last)
		if at[start] != last {
			break // the previous repeat ended inside a character
		}
		p, gl, gn := firstRepeat(rs, start, true)
		if p < 0 {
			break
		}
		_, ll, ln := firstRepeat(rs, start, false)
		unit, size := ll, ll*ln
		if gl*gn > size {
			size = gl * gn
			unit = shortestPeriod(rs[p : p+size])
		}
		token := string(rs[p : p+size])
		base := string(rs[p : p+unit])
		seq := bestSequence(base, nil)
		i, j := at[p], at[p+size-1]
		out = append(out, &match.Match{Pattern: "repeat", I: i, J: j, Token: token,
			BaseToken: base, BaseGuesses: seq.Guesses, BaseMatches: seq.Sequence,
			// characters over bytes, as the module counts (a unit of 2-byte letters
			// counts half its repeats)
			RepeatCount: size / len(base)})
		last = j + 1
	}
	return out
}

// firstRepeat finds the leftmost position from start where a unit repeats at least
// twice, with the longest unit (longest) or the shortest, and the most repeats of it.
// It returns the position, the unit's length and the number of copies, or p = -1.
func firstRepeat(rs []rune, start int, longest bool) (p, unit, copies int) {
	for p = start; p < len(rs); p++ {
		maxUnit := 0
		for maxUnit < len(rs)-p && rs[p+maxUnit] != '\n' {
			maxUnit++
		}
		for k := 1; k <= maxUnit; k++ {
			u := k
			if longest {
				u = maxUnit + 1 - k
			}
			n := 1
			for p+(n+1)*u <= len(rs) && equalRunes(rs[p:p+u], rs[p+n*u:p+(n+1)*u]) {
				n++
			}
			if n > 1 {
				return p, u, n
			}
		}
	}
	return -1, 0, 0
}

// shortestPeriod is the length of the shortest unit that s is two or more copies of.
func shortestPeriod(s []rune) int {
	for u := 1; u <= len(s)/2; u++ {
		if len(s)%u != 0 {
			continue
		}
		ok := true
		for k := u; k < len(s) && ok; k += u {
			ok = equalRunes(s[:u], s[k:k+u])
		}
		if ok {
			return u
		}
	}
	return len(s)
}

func equalRunes(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sequenceMatches appends the runs of bytes that step by the same amount (abc, 7531,
// ZYX): steps of 1 to 5, and runs of three or more unless the step is 1.
func sequenceMatches(password string, out []*match.Match) []*match.Match {
	n := len(password)
	if n == 1 {
		return out
	}
	add := func(i, j, delta int) {
		d := delta
		if d < 0 {
			d = -d
		}
		if (j-i <= 1 && d != 1) || d == 0 || d > 5 {
			return
		}
		token := password[i : j+1]
		name, space := "unicode", 26
		switch {
		case allBytes(token, 'a', 'z'):
			name = "lower"
		case allBytes(token, 'A', 'Z'):
			name = "upper"
		case allBytes(token, '0', '9'):
			name, space = "digits", 10
		}
		out = append(out, &match.Match{Pattern: "sequence", I: i, J: j, Token: token,
			SequenceName: name, SequenceSpace: space, Ascending: delta > 0})
	}
	i, last := 0, 0
	for k := 1; k < n; k++ {
		delta := int(password[k]) - int(password[k-1])
		if k == 1 {
			last = delta
		}
		if delta != last {
			add(i, k-1, last)
			i, last = k-1, delta
		}
	}
	if n > 1 {
		add(i, n-1, last)
	}
	return out
}

func allBytes(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return s != ""
}

// yearMatches appends recent years (1900-2019), left to right without overlap.
func yearMatches(password string, out []*match.Match) []*match.Match {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	for p := 0; p+4 <= len(password); {
		s := password[p : p+4]
		if digit(s[3]) && ((s[0] == '1' && s[1] == '9' && digit(s[2])) ||
			(s[0] == '2' && s[1] == '0' && (s[2] == '0' || s[2] == '1'))) {
			out = append(out, &match.Match{Pattern: "regex", I: p, J: p + 3, Token: s,
				RegexName: "recent_year"})
			p += 4
			continue
		}
		p++
	}
	return out
}

// dateSplits are the ways a run of 4 to 8 digits splits into day, month and year.
var dateSplits = [9][][2]int{
	4: {{1, 2}, {2, 3}},
	5: {{1, 3}, {2, 3}},
	6: {{1, 2}, {2, 4}, {4, 5}},
	7: {{1, 3}, {2, 3}, {4, 5}, {4, 6}},
	8: {{2, 4}, {4, 6}},
}

// dateMatches appends dates of 4 to 8 digits (1191, 19911101) and with separators
// (1.1.91, 1991-11-01), not counting a date inside a longer one.
func dateMatches(password string, out []*match.Match) []*match.Match {
	var found []*match.Match
	for i := 0; i+4 <= len(password); i++ {
		for j := i + 3; j <= i+7 && j < len(password); j++ {
			token := password[i : j+1]
			if !digitsOnly(token) {
				continue
			}
			var best *dmy
			for _, s := range dateSplits[len(token)] {
				c := toDMY(token[:s[0]], token[s[0]:s[1]], token[s[1]:])
				if c != nil && (best == nil || absInt(c.y-scoring.ReferenceYear) < absInt(best.y-scoring.ReferenceYear)) {
					best = c
				}
			}
			if best != nil {
				found = append(found, &match.Match{Pattern: "date", Token: token, I: i, J: j,
					Year: best.y, Month: best.m, Day: best.d})
			}
		}
	}
	for i := 0; i+6 <= len(password); i++ {
		for j := i + 5; j <= i+9 && j < len(password); j++ {
			token := password[i : j+1]
			a, sep, b, c, ok := separatedDate(token)
			if !ok {
				continue
			}
			if d := toDMY(a, b, c); d != nil {
				found = append(found, &match.Match{Pattern: "date", Token: token, I: i, J: j,
					Separator: sep, Year: d.y, Month: d.m, Day: d.d})
			}
		}
	}
	for x, m := range found {
		inside := false
		for y, o := range found {
			if x != y && o.I <= m.I && o.J >= m.J {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, m)
		}
	}
	return out
}

// digitsOnly: the token is 4 to 8 characters, all digits in Unicode's sense, with
// perhaps one newline after them.
func digitsOnly(token string) bool {
	token = strings.TrimSuffix(token, "\n")
	n := 0
	for _, r := range token {
		if !unicode.IsDigit(r) {
			return false
		}
		n++
	}
	return n >= 4 && n <= 8
}

// separatedDate splits "1-2-1991" into its three numbers and the separator (a space or
// one of / \ _ . -, the same both times): 1-4 digits, 1-2 digits, 1-4 digits.
func separatedDate(token string) (a, sep, b, c string, ok bool) {
	rs := []rune(token)
	k := 0
	digits := func(lo, hi int) (string, bool) {
		s := k
		for k < len(rs) && unicode.IsDigit(rs[k]) {
			k++
		}
		return string(rs[s:k]), k-s >= lo && k-s <= hi
	}
	var okA, okB, okC bool
	if a, okA = digits(1, 4); !okA || k >= len(rs) {
		return
	}
	s := rs[k]
	if !unicode.IsSpace(s) && !strings.ContainsRune(`/\_.-`, s) {
		return
	}
	k++
	if b, okB = digits(1, 2); !okB || k >= len(rs) || rs[k] != s {
		return
	}
	k++
	if c, okC = digits(1, 4); !okC {
		return
	}
	if rest := rs[k:]; len(rest) == 0 || (len(rest) == 1 && rest[0] == '\n') {
		return a, string(s), b, c, true
	}
	return
}

type dmy struct{ d, m, y int }

// toDMY reads three numbers as a day, a month and a year (a year first or last, of two
// or four digits between 1000 and 2050), or nil.
func toDMY(s1, s2, s3 string) *dmy {
	n1, _ := strconv.Atoi(s1)
	n2, _ := strconv.Atoi(s2)
	n3, _ := strconv.Atoi(s3)
	if n2 > 31 || n2 <= 0 {
		return nil
	}
	over12, over31, under1 := 0, 0, 0
	for _, n := range [3]int{n1, n2, n3} {
		if (n > 99 && n < 1000) || n > 2050 {
			return nil
		}
		if n > 31 {
			over31++
		}
		if n > 12 {
			over12++
		}
		if n <= 0 {
			under1++
		}
	}
	if over31 >= 2 || over12 == 3 || under1 >= 2 {
		return nil
	}
	orders := [2][3]int{{n3, n1, n2}, {n1, n2, n3}} // year last, year first
	for _, o := range orders {
		if o[0] >= 1000 && o[0] <= 2050 {
			return toDM(o[1], o[2], o[0])
		}
	}
	for _, o := range orders {
		if d := toDM(o[1], o[2], o[0]); d != nil {
			switch {
			case d.y > 99:
			case d.y > 50:
				d.y += 1900
			default:
				d.y += 2000
			}
			return d
		}
	}
	return nil
}

func toDM(a, b, y int) *dmy {
	switch {
	case a <= 31 && b <= 12:
		return &dmy{d: a, m: b, y: y}
	case b <= 31 && a <= 12:
		return &dmy{d: b, m: a, y: y}
	}
	return nil
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
