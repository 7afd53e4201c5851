package strength

import (
	"bufio"
	"bytes"
	"crypto/rand"
	_ "embed"
	"errors"
	"math/big"
	"strings"
	"sync"
)

//go:embed eff_large_wordlist.txt
var effList []byte

// Words is the EFF large wordlist: 7776 words, one for each roll of five dice.
var words = sync.OnceValue(func() []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(effList))
	for sc.Scan() {
		_, w, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			out = append(out, w)
		}
	}
	return out
})

// DicewareWords is how many words Diceware uses by default: 6 words are 77.5 bits, as the
// EFF advises; against the DefaultAttacker at cryptsetup's default cost that is billions
// of years.
const DicewareWords = 6

// Diceware makes a passphrase of n words chosen uniformly at random (crypto/rand) from the
// EFF large wordlist, separated by spaces.
func Diceware(n int) (string, error) {
	list := words()
	if len(list) != 7776 {
		return "", errors.New("the word list is damaged")
	}
	if n < 1 || n > 64 {
		return "", errors.New("a passphrase of 1 to 64 words")
	}
	out := make([]string, n)
	max := big.NewInt(int64(len(list)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		out[i] = list[k.Int64()]
	}
	return strings.Join(out, " "), nil
}
