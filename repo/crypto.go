package repo

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/poly1305"

	"travelkit/internal/aesctr"
	fastpoly "travelkit/internal/poly1305"
)

// Sizes of the encryption envelope: IV || AES-256-CTR ciphertext || Poly1305-AES MAC.
const (
	ivSize   = 16
	macSize  = 16
	Overhead = ivSize + macSize
)

// ErrUnauthenticated means a MAC did not match: wrong key or damaged data.
var ErrUnauthenticated = errors.New("ciphertext verification failed")

// Key holds the keys of a repository (or of a key file): AES-256 for
// encryption, and K (AES-128) and R for Poly1305-AES.
type Key struct {
	Encrypt [32]byte
	MACK    [16]byte
	MACR    [16]byte

	block    cipher.Block
	macBlock cipher.Block
	poly     *fastpoly.MACKey // R prepared for checking MACs (Open)
	ctr      *aesctr.Key      // the encryption key for openFast (blobs only)
}

type macKeyJSON struct {
	K []byte `json:"k"`
	R []byte `json:"r"`
}

type keyJSON struct {
	MAC     macKeyJSON `json:"mac"`
	Encrypt []byte     `json:"encrypt"`
}

// MarshalJSON writes the master key object stored inside key files.
func (k *Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(keyJSON{MAC: macKeyJSON{K: k.MACK[:], R: k.MACR[:]}, Encrypt: k.Encrypt[:]})
}

// UnmarshalJSON reads the master key object.
func (k *Key) UnmarshalJSON(b []byte) error {
	var j keyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if len(j.MAC.K) != 16 || len(j.MAC.R) != 16 || len(j.Encrypt) != 32 {
		return errors.New("master key has the wrong length")
	}
	copy(k.MACK[:], j.MAC.K)
	copy(k.MACR[:], j.MAC.R)
	copy(k.Encrypt[:], j.Encrypt)
	return k.init()
}

func (k *Key) init() error {
	if isZero(k.Encrypt[:]) || isZero(k.MACK[:]) || isZero(k.MACR[:]) {
		return errors.New("key is all zeros")
	}
	var err error
	if k.block, err = aes.NewCipher(k.Encrypt[:]); err != nil {
		return err
	}
	if k.macBlock, err = aes.NewCipher(k.MACK[:]); err != nil {
		return err
	}
	k.poly = fastpoly.NewMACKey(&k.MACR)
	if k.ctr, err = aesctr.New(k.Encrypt[:]); err != nil {
		return err
	}
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// keyFromBytes builds a key from 64 bytes: encryption key, MAC K, MAC R.
func keyFromBytes(b []byte) (*Key, error) {
	if len(b) != 64 {
		return nil, fmt.Errorf("need 64 key bytes, got %d", len(b))
	}
	k := &Key{}
	copy(k.Encrypt[:], b[:32])
	copy(k.MACK[:], b[32:48])
	copy(k.MACR[:], b[48:64])
	return k, k.init()
}

// NewRandomKey returns a fresh master key.
func NewRandomKey() *Key {
	var b [64]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	// Poly1305 clamps r itself; store it clamped as well.
	b[48+3] &= 15
	b[48+7] &= 15
	b[48+11] &= 15
	b[48+15] &= 15
	b[48+4] &= 252
	b[48+8] &= 252
	b[48+12] &= 252
	k, err := keyFromBytes(b[:])
	if err != nil {
		panic(err)
	}
	return k
}

func (k *Key) mac(iv, msg []byte) [16]byte {
	var pk [32]byte
	copy(pk[:16], k.MACR[:])
	k.macBlock.Encrypt(pk[16:], iv)
	var out [16]byte
	poly1305.Sum(&out, msg, &pk)
	return out
}

// fastMAC, when set (tests), replaces the fast computation of the tags Open checks
// (internal/poly1305: vector code on amd64 with AVX2 or AVX-512). What is written is
// tagged by mac (x/crypto) only.
var fastMAC func(out *[16]byte, msg []byte, key *[32]byte)

// macMatches reports, in constant time, whether tag is the MAC of msg: first with
// fastMAC, and when that does not match, again with x/crypto (mac), so that a fault
// in the fast code costs time, never a good blob.
func (k *Key) macMatches(iv, msg, tag []byte) bool {
	var pk [32]byte
	copy(pk[:16], k.MACR[:])
	k.macBlock.Encrypt(pk[16:], iv)
	var fast [16]byte
	switch {
	case fastMAC != nil:
		fastMAC(&fast, msg, &pk)
	case k.poly != nil:
		k.poly.Sum(&fast, msg, (*[16]byte)(pk[16:]))
	default:
		fastpoly.Sum(&fast, msg, &pk)
	}
	if subtle.ConstantTimeCompare(fast[:], tag) == 1 {
		return true
	}
	want := k.mac(iv, msg)
	return subtle.ConstantTimeCompare(want[:], tag) == 1
}

// Seal encrypts plaintext and appends IV || ciphertext || MAC to dst.
func (k *Key) Seal(dst, plaintext []byte) []byte {
	n := len(dst)
	total := n + Overhead + len(plaintext)
	if cap(dst) < total {
		nd := make([]byte, n, total)
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:total]
	iv := dst[n : n+ivSize]
	for {
		if _, err := rand.Read(iv); err != nil {
			panic(err)
		}
		if !isZero(iv) {
			break
		}
	}
	ct := dst[n+ivSize : n+ivSize+len(plaintext)]
	cipher.NewCTR(k.block, iv).XORKeyStream(ct, plaintext)
	m := k.mac(iv, ct)
	copy(dst[n+ivSize+len(plaintext):], m[:])
	return dst
}

// sealInto encrypts plaintext into dst, which must be exactly
// len(plaintext)+Overhead bytes long: IV || ciphertext || MAC.
func (k *Key) sealInto(dst, plaintext []byte) {
	if len(dst) != len(plaintext)+Overhead {
		panic("repo: sealInto with a wrong buffer size")
	}
	iv := dst[:ivSize]
	for {
		if _, err := rand.Read(iv); err != nil {
			panic(err)
		}
		if !isZero(iv) {
			break
		}
	}
	ct := dst[ivSize : ivSize+len(plaintext)]
	cipher.NewCTR(k.block, iv).XORKeyStream(ct, plaintext)
	m := k.mac(iv, ct)
	copy(dst[ivSize+len(plaintext):], m[:])
}

// sealInPlace encrypts buf[ivSize:] where it lies: it fills buf[:ivSize] with
// the IV and appends the MAC, returning IV || ciphertext || MAC as Seal does.
func (k *Key) sealInPlace(buf []byte) []byte {
	iv := buf[:ivSize]
	for {
		if _, err := rand.Read(iv); err != nil {
			panic(err)
		}
		if !isZero(iv) {
			break
		}
	}
	ct := buf[ivSize:]
	cipher.NewCTR(k.block, iv).XORKeyStream(ct, ct)
	m := k.mac(iv, ct)
	return append(buf, m[:]...)
}

// Open checks and decrypts IV || ciphertext || MAC, appending the plaintext to dst.
func (k *Key) Open(dst, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, errors.New("ciphertext too short")
	}
	iv := sealed[:ivSize]
	ct := sealed[ivSize : len(sealed)-macSize]
	if !k.macMatches(iv, ct, sealed[len(sealed)-macSize:]) {
		return nil, ErrUnauthenticated
	}
	n := len(dst)
	if cap(dst)-n < len(ct) {
		nd := make([]byte, n, n+len(ct))
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:n+len(ct)]
	cipher.NewCTR(k.block, iv).XORKeyStream(dst[n:], ct)
	return dst, nil
}

// openFast is Open in place (sealed's ciphertext becomes the plaintext, returned)
// with internal/aesctr's keystream (VAES on CPUs that have it). Only for blobs, whose
// plaintext is checked against their ID: when it does not check out, unFast gives
// back the ciphertext and the blob is opened again with crypto/aes (openBlob).
func (k *Key) openFast(sealed []byte) ([]byte, error) {
	if k.ctr == nil || fastCTRBroken != nil {
		if fastCTRBroken != nil && len(sealed) >= Overhead {
			ct := sealed[ivSize : len(sealed)-macSize]
			if !k.macMatches(sealed[:ivSize], ct, sealed[len(sealed)-macSize:]) {
				return nil, ErrUnauthenticated
			}
			fastCTRBroken(ct, (*[ivSize]byte)(sealed[:ivSize]))
			return ct, nil
		}
		return k.Open(sealed[ivSize:ivSize], sealed)
	}
	if len(sealed) < Overhead {
		return nil, errors.New("ciphertext too short")
	}
	iv := (*[ivSize]byte)(sealed[:ivSize])
	ct := sealed[ivSize : len(sealed)-macSize]
	if !k.macMatches(iv[:], ct, sealed[len(sealed)-macSize:]) {
		return nil, ErrUnauthenticated
	}
	k.ctr.XORKeyStream(ct, ct, iv)
	return ct, nil
}

// unFast undoes openFast on sealed (the same keystream XORed again) and reports
// whether the MAC then proves sealed to be the stored ciphertext again.
func (k *Key) unFast(sealed []byte) bool {
	ct := sealed[ivSize : len(sealed)-macSize]
	switch {
	case fastCTRBroken != nil:
		fastCTRBroken(ct, (*[ivSize]byte)(sealed[:ivSize]))
	case k.ctr != nil:
		k.ctr.XORKeyStream(ct, ct, (*[ivSize]byte)(sealed[:ivSize]))
	default:
		cipher.NewCTR(k.block, sealed[:ivSize]).XORKeyStream(ct, ct)
	}
	return k.macMatches(sealed[:ivSize], ct, sealed[len(sealed)-macSize:])
}

// fastCTRBroken, when a test sets it, stands in for a wrong keystream of openFast (it
// must be its own inverse, as a keystream XORed is).
var fastCTRBroken func(ct []byte, iv *[ivSize]byte)

// sealStream encrypts plaintext as Seal does and hands IV || ciphertext || MAC
// to out in pieces of at most len(scratch) bytes (scratch must not be empty):
// a blob is written to a pack without a sealed copy of it in memory.
func (k *Key) sealStream(plaintext, scratch []byte, out func([]byte) error) error {
	w, err := k.sealStart(scratch, out)
	if err != nil {
		return err
	}
	if _, err := w.Write(plaintext); err != nil {
		return err
	}
	return w.finish()
}

// sealWriter encrypts what is written to it, in pieces of at most len(scratch)
// bytes, and hands the ciphertext to out; finish hands out the MAC.
type sealWriter struct {
	ctr     cipher.Stream
	mac     *poly1305.MAC
	scratch []byte
	out     func([]byte) error
	n       int // ciphertext bytes so far
	limit   int // a Write that would pass this many bytes fails with errSealLimit (0: none)
}

var errSealLimit = errors.New("sealed data over its limit")

// sealStart writes a new random IV to out and returns the writer of the
// ciphertext that follows it.
func (k *Key) sealStart(scratch []byte, out func([]byte) error) (*sealWriter, error) {
	var iv [ivSize]byte
	for {
		if _, err := rand.Read(iv[:]); err != nil {
			panic(err)
		}
		if !isZero(iv[:]) {
			break
		}
	}
	var pk [32]byte
	copy(pk[:16], k.MACR[:])
	k.macBlock.Encrypt(pk[16:], iv[:])
	if err := out(iv[:]); err != nil {
		return nil, err
	}
	return &sealWriter{ctr: cipher.NewCTR(k.block, iv[:]), mac: poly1305.New(&pk), scratch: scratch, out: out}, nil
}

func (w *sealWriter) Write(p []byte) (int, error) {
	if w.limit > 0 && w.n+len(p) > w.limit {
		return 0, errSealLimit
	}
	total := len(p)
	for len(p) > 0 {
		ct := w.scratch[:min(len(p), len(w.scratch))]
		w.ctr.XORKeyStream(ct, p[:len(ct)])
		w.mac.Write(ct)
		if err := w.out(ct); err != nil {
			return total - len(p), err
		}
		w.n += len(ct)
		p = p[len(ct):]
	}
	return total, nil
}

// finish hands out the MAC.
func (w *sealWriter) finish() error { return w.out(w.mac.Sum(w.scratch[:0])) }
