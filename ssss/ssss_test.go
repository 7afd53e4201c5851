package ssss

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// TestPentanomialsIrreducible checks the table: x^m + x^a + x^b + x^c + 1 is irreducible
// over GF(2) for every m (Rabin's test: x^(2^m) = x mod p, and gcd(x^(2^(m/q)) - x, p) = 1
// for every prime q dividing m).
func TestPentanomialsIrreducible(t *testing.T) {
	for deg := MinBits; deg <= MaxBits; deg += 8 {
		if !irreducible(newField(deg)) {
			t.Errorf("degree %d: %v is not irreducible", deg, pentanomials[deg/8-1])
		}
	}
}

// frob returns x^(2^k) mod the field's polynomial (mul is multiplication mod poly, whether
// or not poly is irreducible).
func frob(f *field, k int) elem {
	r := f.small(2)
	for i := 0; i < k; i++ {
		r = square(f, r)
	}
	return r
}

// square is x^2 mod poly: in GF(2)[X] squaring spreads the bits apart (bit i goes to 2i),
// then every bit at or above deg is folded down by the pentanomial. Faster than mul, and
// computed another way, so the test also checks mul (TestSquareMatchesMul).
func square(f *field, x elem) elem {
	wide := make([]bool, 2*f.deg)
	for i := 0; i < f.deg; i++ {
		wide[2*i] = x.bit(i)
	}
	p := pentanomials[f.deg/8-1]
	for i := len(wide) - 1; i >= f.deg; i-- {
		if wide[i] {
			wide[i] = false
			s := i - f.deg
			for _, t := range []int{int(p[0]), int(p[1]), int(p[2]), 0} {
				wide[s+t] = !wide[s+t]
			}
		}
	}
	r := f.zero()
	for i := 0; i < f.deg; i++ {
		if wide[i] {
			r.setBit(i)
		}
	}
	return r
}

func TestSquareMatchesMul(t *testing.T) {
	for _, deg := range []int{8, 64, 568, 1024} {
		f := newField(deg)
		b := make([]byte, deg/8)
		rand.Read(b)
		x := f.fromBytes(b)
		if !bytes.Equal(f.bytes(square(f, x)), f.bytes(f.mul(x, x))) {
			t.Fatalf("degree %d: square and mul disagree", deg)
		}
	}
}

// pgcd is the gcd in GF(2)[X].
func pgcd(a, b elem) elem {
	a, b = a.clone(), b.clone()
	for !b.isZero() {
		for d := a.degree() - b.degree(); d >= 0 && !a.isZero(); d = a.degree() - b.degree() {
			a.xorShifted(b, d)
		}
		a, b = b, a
	}
	return a
}

func irreducible(f *field) bool {
	m := f.deg
	x := f.small(2)
	if !bytes.Equal(f.bytes(frob(f, m)), f.bytes(x)) {
		return false
	}
	for q := 2; q <= m; q++ {
		if m%q != 0 || !isPrime(q) {
			continue
		}
		if !pgcd(f.poly, f.add(frob(f, m/q), x)).isOne() {
			return false
		}
	}
	return true
}

func isPrime(n int) bool {
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return n >= 2
}

func TestFieldInverse(t *testing.T) {
	for _, deg := range []int{8, 64, 72, 568, 1024} {
		f := newField(deg)
		for i := 0; i < 20; i++ {
			b := make([]byte, deg/8)
			rand.Read(b)
			x := f.fromBytes(b)
			if x.isZero() {
				continue
			}
			if p := f.mul(x, f.inv(x)); !p.isOne() {
				t.Fatalf("degree %d: x * 1/x = %x", deg, f.bytes(p))
			}
		}
	}
}

func TestDiffusionRoundTrip(t *testing.T) {
	for _, n := range []int{8, 9, 16, 71, 128} {
		f := newField(8 * n)
		b := make([]byte, n)
		rand.Read(b)
		e := f.fromBytes(b)
		f.diffuse(e, true)
		if bytes.Equal(f.bytes(e), b) {
			t.Fatalf("%d bytes: diffusion changed nothing", n)
		}
		f.diffuse(e, false)
		if !bytes.Equal(f.bytes(e), b) {
			t.Fatalf("%d bytes: diffusion does not undo", n)
		}
	}
}

func TestSplitCombine(t *testing.T) {
	secret := []byte("cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv")
	for _, tc := range []struct{ k, n int }{{2, 2}, {2, 3}, {3, 5}, {5, 12}} {
		shares, err := Split(secret, tc.k, tc.n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(shares) != tc.n || shares[0].Bits() != 8*len(secret) {
			t.Fatalf("%d shares of %d bits", len(shares), shares[0].Bits())
		}
		// every window of k consecutive shares (wrapping) combines
		for start := 0; start < tc.n; start++ {
			var pick []Share
			for j := 0; j < tc.k; j++ {
				pick = append(pick, shares[(start+j)%tc.n])
			}
			got, err := Combine(pick, tc.k)
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("k=%d n=%d from %d: %q, %v", tc.k, tc.n, start, got, err)
			}
		}
		// all of them: the extra shares are checked
		if got, err := Combine(shares, tc.k); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("all shares: %v", err)
		}
		// k-1 shares: too few, with the count
		var tf *TooFewError
		if _, err := Combine(shares[:tc.k-1], tc.k); !errors.As(err, &tf) || tf.Need != tc.k || tf.Have != tc.k-1 {
			t.Fatalf("k-1 shares: %v", err)
		}
		// the wrong threshold gives another secret (ssss's x^K term)
		if tc.n > tc.k {
			if got, err := Combine(shares[:tc.k+1], tc.k+1); err == nil && bytes.Equal(got, secret) {
				t.Fatal("combined under the wrong threshold")
			}
		}
		// a damaged extra share is found
		if tc.n > tc.k {
			bad := append([]Share(nil), shares...)
			v := append([]byte(nil), bad[tc.k].Value...)
			v[3] ^= 1
			bad[tc.k].Value = v
			if _, err := Combine(bad, tc.k); !errors.Is(err, ErrInconsistent) {
				t.Fatalf("damaged share: %v", err)
			}
		}
		// round trip through text
		for _, s := range shares {
			p, err := ParseShare(s.String() + "\n")
			if err != nil || p.String() != s.String() {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
}

func TestSplitRefuses(t *testing.T) {
	for _, tc := range []struct {
		secret string
		k, n   int
		want   string
	}{
		{"secret", 1, 3, "at least 2"},
		{"secret", 3, 2, "at least the threshold"},
		{"secret", 2, 256, "at most 255"},
		{"", 2, 3, "1 to 128"},
		{strings.Repeat("x", 129), 2, 3, "1 to 128"},
	} {
		if _, err := Split([]byte(tc.secret), tc.k, tc.n, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d-of-%d of %d bytes: %v, want %q", tc.k, tc.n, len(tc.secret), err, tc.want)
		}
	}
}

func TestParseShare(t *testing.T) {
	good := map[string]string{
		"1-0a1b":                           "1-0a1b",
		"  03-0A1B\r\n":                    "03-0a1b",
		"kit-12-00ff":                      "kit-12-00ff",
		"255-" + strings.Repeat("ab", 128): "255-" + strings.Repeat("ab", 128),
	}
	for in, want := range good {
		s, err := ParseShare(in)
		if err != nil || s.String() != want {
			t.Errorf("%q: %q, %v", in, s.String(), err)
		}
	}
	for _, in := range []string{
		"", "1", "1-", "-0a", "0-0a1b", "256-0a1b", "1-0a1", "1-zz", "a-b-c-d",
		"x-1-", "1-" + strings.Repeat("ab", 129), "1-0a 1b", "tok en-1-0a1b",
		strings.Repeat("t", 129) + "-1-0a1b", "99999999999-0a", "+1-0a1b",
	} {
		if _, err := ParseShare(in); !errors.Is(err, ErrNotShare) {
			t.Errorf("%q: %v, want ErrNotShare", in, err)
		}
	}
	// the error never repeats the value
	if _, err := ParseShare("1-0a1bcdefZZ"); err == nil || strings.Contains(err.Error(), "0a1bcdef") {
		t.Errorf("error leaks the value: %v", err)
	}
}
