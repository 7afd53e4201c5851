package repo

import (
	"crypto/rand"
	"math/big"
)

// randPerm returns a random permutation of 0..n-1.
func randPerm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			panic(err)
		}
		k := int(j.Int64())
		p[i], p[k] = p[k], p[i]
	}
	return p
}
