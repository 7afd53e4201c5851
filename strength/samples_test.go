package strength

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trustelem/zxcvbn/frequency"
)

// sampleGuesses are passphrases people type and what guesses() gave for each before the
// frequency lists were embedded (main 5a03286, the module's frequency package linked):
// the guess count as %.6g, and the score. The estimate the CLI shows must not move.
var sampleGuesses = []struct {
	pass    string
	guesses string
	score   int
}{
	{"password", "3", 0},
	{"travelkit-demo", "1.906e+11", 4},
	{"correct horse battery staple", "2.13812e+20", 4},
	{"Tr0ub4dor&3", "1e+11", 4},
	{"iloveyou2024", "416000", 1},
	{"qwertyuiop", "23", 0},
	{"amina1990", "209200", 1},
	{"01/02/1990", "52561", 1},
	{"aaaaaaaaaaaa", "145", 0},
	{"abcdefghijk", "45", 0},
	{"drowssap", "5", 0},
	{"P@$$w0rd!", "11100", 1},
	{"journalist", "1577", 1},
	{"Journalist Kabul 2021", "6.304e+14", 4},
	{"the quick brown fox jumps over the lazy dog", "9e+38", 4},
	{"sunshine and rainbows", "1.627e+11", 4},
	{"zxcvbnm,./", "3889", 1},
	{"1qaz2wsx3edc", "1001", 0},
	{"marianne-dupont", "1.66081e+08", 3},
	{"elizabeth", "6", 0},
	{"smith1975", "15100", 1},
	{"starwars", "53", 0},
	{"friends forever", "1.02598e+08", 3},
	{"vutrnlkj ihgfedcb", "3.89476e+11", 4},
	{"reassign-anvil-cupcake-duckling-scuba-outdated", "1.5181e+34", 4},
	{"Москва2020", "4.0401e+08", 3},
	{"مرحبا بالعالم", "1e+13", 4},
	{"xK9#mQ2$vL7@", "1e+12", 4},
	{"", "1", 0},
}

// TestSampleEstimates: guesses() of each sample passphrase is what it was with the
// module's frequency package (sampleGuesses). TRAVELKIT_PRINT_SAMPLES=1 prints the table.
func TestSampleEstimates(t *testing.T) {
	for _, s := range sampleGuesses {
		g, score := guesses([]byte(s.pass), nil)
		got := fmt.Sprintf("%.6g", g)
		if os.Getenv("TRAVELKIT_PRINT_SAMPLES") != "" {
			fmt.Printf("\t{%q, %q, %d},\n", s.pass, got, score)
			continue
		}
		if got != s.guesses || score != s.score {
			t.Errorf("%q: %s guesses, score %d; before: %s, %d", s.pass, got, score, s.guesses, s.score)
		}
	}
}

// TestFrequencyTextIsTheModules: the embedded lists (frequency.txt, written by
// ./internal/freqgen) are the module's frequency lists, name for name and word for word
// in order, and the ranked dictionary built from them is the one the module's lists give.
func TestFrequencyTextIsTheModules(t *testing.T) {
	got := map[string][]string{}
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(frequencyText, "\n"), "\n") {
		if name, ok := strings.CutPrefix(line, "list: "); ok {
			names = append(names, name)
			got[name] = []string{}
			continue
		}
		if len(names) == 0 {
			t.Fatalf("frequency.txt starts with a word (%q), not a list's name", line)
		}
		got[names[len(names)-1]] = append(got[names[len(names)-1]], line)
	}
	if len(got) != len(frequency.FrequencyLists) {
		t.Fatalf("frequency.txt has %d lists, the module %d: go run ./strength/internal/freqgen > strength/frequency.txt", len(got), len(frequency.FrequencyLists))
	}
	var moduleLists [][]string
	for name, words := range frequency.FrequencyLists {
		if !slices.Equal(got[name], words) {
			t.Fatalf("frequency.txt's list %s differs from the module's (%d words, the module %d): go run ./strength/internal/freqgen > strength/frequency.txt", name, len(got[name]), len(words))
		}
		moduleLists = append(moduleLists, words)
	}
	var split [][]string
	for words := range frequencyLists {
		split = append(split, slices.Clone(words))
	}
	if len(split) != len(names) {
		t.Fatalf("frequencyLists split %d lists, want %d", len(split), len(names))
	}
	for i, words := range split {
		if !slices.Equal(words, frequency.FrequencyLists[names[i]]) {
			t.Fatalf("frequencyLists' list %d (%s) differs from the module's: %d words, the module %d", i, names[i], len(words), len(frequency.FrequencyLists[names[i]]))
		}
	}
	ours, theirs := ranked(), rankLists(slices.Values(moduleLists), 0)
	if ours.maxRunes != theirs.maxRunes || len(ours.rank) != len(theirs.rank) {
		t.Fatalf("ranked: %d words, longest %d runes; from the module's lists %d, %d", len(ours.rank), ours.maxRunes, len(theirs.rank), theirs.maxRunes)
	}
	for w, r := range theirs.rank {
		if ours.rank[w].rank != r.rank {
			t.Fatalf("ranked: %q has rank %d, from the module's lists %d", w, ours.rank[w].rank, r.rank)
		}
	}
}
