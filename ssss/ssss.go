package ssss

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// TooFewError says that fewer shares than the threshold were given.
type TooFewError struct{ Have, Need int }

func (e *TooFewError) Error() string {
	return fmt.Sprintf("%d share(s) given, %d needed", e.Have, e.Need)
}

// ErrInconsistent means the shares do not lie on one polynomial: one of them is damaged,
// belongs to another secret, or the threshold is wrong.
var ErrInconsistent = errors.New("the shares are inconsistent (a damaged share, shares of different secrets, or the wrong threshold)")

// Split makes n shares of secret, any threshold of which rebuild it, as
// `ssss-split -t threshold -n n` does with the secret typed as text: the security level is
// 8 bits per byte of the secret (1 to 128 bytes), shares are numbered 1..n and their
// indexes padded to the digits of n. random is crypto/rand when nil.
func Split(secret []byte, threshold, n int, random io.Reader) ([]Share, error) {
	if threshold < 2 {
		return nil, fmt.Errorf("threshold %d: ssss needs at least 2", threshold)
	}
	if n < threshold {
		return nil, fmt.Errorf("%d shares with threshold %d: the number of shares must be at least the threshold", n, threshold)
	}
	if n > MaxShares {
		return nil, fmt.Errorf("%d shares: at most %d", n, MaxShares)
	}
	deg := 8 * len(secret)
	if !validBits(deg) {
		return nil, fmt.Errorf("a secret of %d bytes: ssss takes 1 to %d", len(secret), MaxBits/8)
	}
	if random == nil {
		random = rand.Reader
	}
	f := newField(deg)
	coeff := make([]elem, threshold)
	defer func() {
		for _, c := range coeff {
			c.wipe()
		}
	}()
	coeff[0] = f.fromBytes(secret)
	f.diffuse(coeff[0], true)
	buf := make([]byte, deg/8)
	defer clear(buf)
	for i := 1; i < threshold; i++ {
		if _, err := io.ReadFull(random, buf); err != nil {
			return nil, fmt.Errorf("reading random bytes: %w", err)
		}
		coeff[i] = f.fromBytes(buf)
	}
	width := len(fmt.Sprint(n))
	shares := make([]Share, n)
	for i := range shares {
		x := f.small(uint64(i + 1))
		y := f.eval(coeff, x)
		shares[i] = Share{Index: i + 1, Width: width, Value: f.bytes(y)}
		y.wipe()
	}
	return shares, nil
}

// eval returns x^K + c[K-1] x^(K-1) + ... + c[1] x + c[0], K = len(c): ssss's polynomial
// with its extra leading term.
func (f *field) eval(c []elem, x elem) elem {
	y := x.clone()
	for i := len(c) - 1; i >= 1; i-- {
		t := f.add(y, c[i])
		y.wipe()
		y = f.mul(t, x)
		t.wipe()
	}
	r := f.add(y, c[0])
	y.wipe()
	return r
}

// Combine rebuilds the secret from shares made with the given threshold, as
// `ssss-combine -t threshold` does: the first threshold shares with distinct indexes are
// used, and any further shares are checked against them. The secret is returned as
// ssss-combine prints it: the big-endian bytes without leading zero bytes.
func Combine(shares []Share, threshold int) ([]byte, error) {
	if threshold < 2 || threshold > MaxShares {
		return nil, fmt.Errorf("threshold %d: must be 2 to %d", threshold, MaxShares)
	}
	var use, extra []Share
	seen := map[int][]byte{}
	for _, s := range shares {
		if !validBits(s.Bits()) || s.Index < 1 || s.Index > MaxShares {
			return nil, fmt.Errorf("%w: share %d is malformed", ErrNotShare, s.Index)
		}
		if len(use) > 0 && s.Bits() != use[0].Bits() {
			return nil, fmt.Errorf("the shares have different security levels (%d and %d bits): they belong to different secrets", use[0].Bits(), s.Bits())
		}
		if v, dup := seen[s.Index]; dup {
			if string(v) != string(s.Value) {
				return nil, fmt.Errorf("%w: two different shares with index %d", ErrInconsistent, s.Index)
			}
			continue
		}
		seen[s.Index] = s.Value
		if len(use) < threshold {
			use = append(use, s)
		} else {
			extra = append(extra, s)
		}
	}
	if len(use) < threshold {
		return nil, &TooFewError{Have: len(use), Need: threshold}
	}
	f := newField(use[0].Bits())
	xs := make([]elem, threshold)
	ys := make([]elem, threshold)
	defer func() {
		for _, y := range ys {
			if y != nil {
				y.wipe()
			}
		}
	}()
	for i, s := range use {
		xs[i] = f.small(uint64(s.Index))
		ys[i] = f.unshift(f.fromBytes(s.Value), xs[i], threshold)
	}
	secret := f.interpolate(xs, ys, f.zero())
	defer secret.wipe()
	for _, s := range extra {
		x := f.small(uint64(s.Index))
		want := f.unshift(f.fromBytes(s.Value), x, threshold)
		got := f.interpolate(xs, ys, x)
		same := string(f.bytes(want)) == string(f.bytes(got))
		want.wipe()
		got.wipe()
		if !same {
			return nil, fmt.Errorf("%w: share %d does not agree with the others", ErrInconsistent, s.Index)
		}
	}
	f.diffuse(secret, false)
	b := f.bytes(secret)
	i := 0
	for i < len(b) && b[i] == 0 {
		i++
	}
	out := append([]byte(nil), b[i:]...)
	clear(b)
	return out, nil
}

// unshift takes ssss's extra term x^K off a share's value.
func (f *field) unshift(y, x elem, k int) elem {
	p := f.small(1)
	for i := 0; i < k; i++ {
		p = f.mul(p, x)
	}
	r := f.add(y, p)
	y.wipe()
	return r
}

// interpolate evaluates at at the polynomial of degree < len(xs) through the points
// (xs[i], ys[i]) (Lagrange; in GF(2^m) subtraction is addition).
func (f *field) interpolate(xs, ys []elem, at elem) elem {
	sum := f.zero()
	for i := range xs {
		num, den := f.small(1), f.small(1)
		for j := range xs {
			if j == i {
				continue
			}
			num = f.mul(num, f.add(at, xs[j]))
			den = f.mul(den, f.add(xs[i], xs[j]))
		}
		t := f.mul(ys[i], f.mul(num, f.inv(den)))
		sum = f.add(sum, t)
		t.wipe()
	}
	return sum
}
