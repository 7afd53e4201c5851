package scrypt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"sync/atomic"

	"golang.org/x/crypto/pbkdf2"
	xscrypt "golang.org/x/crypto/scrypt"
)

// shuffled[k] is the salsa20 word held at position k of a block in the shuffled-diagonal
// order the assembly works in: the four diagonals of the 4x4 word matrix, each starting
// on the main diagonal.
var shuffled = [16]int{0, 5, 10, 15, 12, 1, 6, 11, 8, 13, 2, 7, 4, 9, 14, 3}

// derivations counts Key's and KeyReference's calls (Derivations).
var derivations atomic.Int64

// Derivations is how many keys this process has derived (Key and KeyReference): tests
// count with it the scrypt a command runs (an add per ~70 ms derivation).
func Derivations() int64 { return derivations.Load() }

// Key derives a key from the password, salt and cost parameters, as
// golang.org/x/crypto/scrypt's Key does, with the same parameter rules and errors:
// N a power of two greater than 1, r and p positive, r*p < 2^30.
func Key(password, salt []byte, N, r, p, keyLen int) ([]byte, error) {
	derivations.Add(1)
	if path == "xcrypto" {
		return xscrypt.Key(password, salt, N, r, p, keyLen)
	}
	if N <= 1 || N&(N-1) != 0 {
		return nil, errors.New("scrypt: N must be > 1 and a power of 2")
	}
	if r <= 0 || p <= 0 {
		return nil, errors.New("scrypt: parameters must be > 0")
	}
	if uint64(r)*uint64(p) >= 1<<30 || r > math.MaxInt/128/p || r > math.MaxInt/256 || N > math.MaxInt/128/r {
		return nil, errors.New("scrypt: parameters are too large")
	}

	xy := make([]uint32, 64*r)
	v := make([]uint32, 32*N*r)
	wait := prefault(v)
	defer wait()
	b := pbkdf2.Key(password, salt, 1, p*128*r, sha256.New)
	for i := 0; i < p; i++ {
		smix(b[i*128*r:(i+1)*128*r], r, N, v, xy)
	}
	return pbkdf2.Key(password, b, 1, keyLen, sha256.New), nil
}

// KeyReference is golang.org/x/crypto/scrypt's Key: the reference a caller falls back on
// before it concludes that a password is wrong.
func KeyReference(password, salt []byte, N, r, p, keyLen int) ([]byte, error) {
	derivations.Add(1)
	return xscrypt.Key(password, salt, N, r, p, keyLen)
}

// smix is scrypt's ROMix on one 128*r-byte block b, in place: v holds 32*N*r words, xy
// 64*r.
func smix(b []byte, r, N int, v, xy []uint32) {
	R := 32 * r
	v = v[:N*R]
	x, y := xy[:R], xy[R:2*R]
	// V[0] = B, in the shuffled order
	for blk := 0; blk < 2*r; blk++ {
		for k, w := range shuffled {
			v[blk*16+k] = binary.LittleEndian.Uint32(b[(blk*16+w)*4:])
		}
	}
	// V[i+1] = BlockMix(V[i]), then X = BlockMix(V[N-1]): no copies
	for i := 0; i < N-1; i++ {
		blockMix(&v[(i+1)*R], &v[i*R], r)
	}
	blockMix(&x[0], &v[(N-1)*R], r)
	// word 0 of the last block stays at position 0 in the shuffled order, word 1 is at 5
	last := (2*r - 1) * 16
	mask := uint64(N - 1)
	for i := 0; i < N; i++ {
		j := int((uint64(x[last]) | uint64(x[last+5])<<32) & mask)
		blockMixXor(&y[0], &x[0], &v[j*R], r)
		x, y = y, x
	}
	for blk := 0; blk < 2*r; blk++ {
		for k, w := range shuffled {
			binary.LittleEndian.PutUint32(b[(blk*16+w)*4:], x[blk*16+k])
		}
	}
	clear(xy)
}
