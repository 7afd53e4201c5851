package sha256x2

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"math/rand/v2"
	"testing"
)

// modes runs f with the assembly (where this machine has it) and with the fallback.
func modes(t *testing.T, f func(t *testing.T)) {
	t.Run("native", f)
	if !useSHANI {
		return
	}
	t.Run("fallback", func(t *testing.T) {
		useSHANI = false
		defer func() { useSHANI = true }()
		f(t)
	})
}

func TestAssemblyHere(t *testing.T) {
	t.Logf("useSHANI = %v", useSHANI)
}

// TestKnownAnswers checks FIPS 180-4's examples and lengths around the padding's edges.
func TestKnownAnswers(t *testing.T) {
	modes(t, func(t *testing.T) {
		for _, s := range []string{"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"} {
			d := New()
			d.Write([]byte(s))
			want := sha256.Sum256([]byte(s))
			if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Errorf("%q: %x, want %x", s, got, want)
			}
		}
		b := make([]byte, 300)
		for i := range b {
			b[i] = byte(i * 7)
		}
		for n := range b {
			var d Digest // the zero value works
			d.Write(b[:n])
			want := sha256.Sum256(b[:n])
			if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("%d bytes: %x, want %x", n, got, want)
			}
		}
	})
}

// writeSplit writes p to d in pieces cut at random points.
func writeSplit(r *rand.Rand, d *Digest, p []byte) {
	for len(p) > 0 {
		n := r.IntN(len(p) + 1)
		if r.IntN(3) == 0 {
			n = min(len(p), r.IntN(70))
		}
		d.Write(p[:n])
		p = p[n:]
	}
}

// TestWrite2Equivalence: two lanes of random lengths, each begun by a random prefix
// written alone (so that blocks begun are carried into Write2), then written by Write2
// in random steps, give crypto/sha256's sums; so does Sum between steps.
func TestWrite2Equivalence(t *testing.T) {
	modes(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		for iter := range 400 {
			la, lb := r.IntN(9000), r.IntN(9000)
			if iter%10 == 0 {
				la, lb = r.IntN(1<<19), r.IntN(1<<19)
			}
			pa := buf[r.IntN(len(buf)-la):][:la]
			pb := buf[r.IntN(len(buf)-lb):][:lb]
			a, b := New(), New()
			ha, hb := sha256.New(), sha256.New()
			na, nb := r.IntN(la+1), r.IntN(lb+1)
			if iter%4 == 0 {
				na, nb = 0, 0
			}
			writeSplit(r, a, pa[:na])
			writeSplit(r, b, pb[:nb])
			ha.Write(pa[:na])
			hb.Write(pb[:nb])
			for na < la || nb < lb {
				sa := min(la-na, r.IntN(la+1))
				sb := min(lb-nb, r.IntN(lb+1))
				Write2(a, b, pa[na:na+sa], pb[nb:nb+sb])
				ha.Write(pa[na : na+sa])
				hb.Write(pb[nb : nb+sb])
				na, nb = na+sa, nb+sb
				if !bytes.Equal(a.Sum(nil), ha.Sum(nil)) || !bytes.Equal(b.Sum(nil), hb.Sum(nil)) {
					t.Fatalf("iteration %d: lanes of %d and %d bytes differ from crypto/sha256 after %d and %d", iter, la, lb, na, nb)
				}
			}
		}
	})
}

// TestMarshal: a state saved in the middle of a stream and restored (into a Digest,
// or into crypto/sha256 and back) goes on to the same sum.
func TestMarshal(t *testing.T) {
	modes(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for range 200 {
			p := make([]byte, r.IntN(2000))
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			cut := r.IntN(len(p) + 1)
			d := New()
			d.Write(p[:cut])
			st, err := d.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			d.Write([]byte("something else"))
			if err := d.UnmarshalBinary(st); err != nil {
				t.Fatal(err)
			}
			d.Write(p[cut:])
			want := sha256.Sum256(p)
			if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("restored Digest: %x, want %x", got, want)
			}
			std := sha256.New()
			if err := std.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
				t.Fatalf("crypto/sha256 refuses our state: %v", err)
			}
			std.Write(p[cut:])
			if got := std.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("crypto/sha256 from our state: %x, want %x", got, want)
			}
			std = sha256.New()
			std.Write(p[:cut])
			st2, _ := std.(encoding.BinaryMarshaler).MarshalBinary()
			e := New()
			if err := e.UnmarshalBinary(st2); err != nil {
				t.Fatal(err)
			}
			e.Write(p[cut:])
			if got := e.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("from crypto/sha256's state: %x, want %x", got, want)
			}
		}
	})
}

func TestUnmarshalRefuses(t *testing.T) {
	modes(t, func(t *testing.T) {
		good, _ := New().MarshalBinary()
		for _, b := range [][]byte{nil, good[:len(good)-1], append(append([]byte{}, good...), 0), append([]byte("sha\x02"), good[4:]...)} {
			if err := New().UnmarshalBinary(b); err == nil {
				t.Errorf("%d bytes %q...: accepted", len(b), b[:min(4, len(b))])
			}
		}
	})
}

// TestReset: a Digest reset after use starts again.
func TestReset(t *testing.T) {
	modes(t, func(t *testing.T) {
		d := New()
		d.Write(make([]byte, 1000))
		d.Reset()
		d.Write([]byte("abc"))
		want := sha256.Sum256([]byte("abc"))
		if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("%x, want %x", got, want)
		}
	})
}

// FuzzWrite2: any two lanes, split anywhere, give crypto/sha256's sums.
func FuzzWrite2(f *testing.F) {
	f.Add([]byte("abc"), []byte{}, uint16(0), uint16(0))
	f.Add(bytes.Repeat([]byte{1}, 200), bytes.Repeat([]byte{2}, 130), uint16(5), uint16(64))
	f.Fuzz(func(t *testing.T, pa, pb []byte, ca, cb uint16) {
		a, b := New(), New()
		ia, ib := int(ca)%(len(pa)+1), int(cb)%(len(pb)+1)
		a.Write(pa[:ia])
		b.Write(pb[:ib])
		Write2(a, b, pa[ia:], pb[ib:])
		wa, wb := sha256.Sum256(pa), sha256.Sum256(pb)
		if !bytes.Equal(a.Sum(nil), wa[:]) || !bytes.Equal(b.Sum(nil), wb[:]) {
			t.Fatalf("lanes of %d and %d bytes (cut at %d, %d) differ from crypto/sha256", len(pa), len(pb), ia, ib)
		}
	})
}

// FuzzUnmarshal: no input makes UnmarshalBinary panic, and what it accepts marshals
// back to the same bytes except the block's unused tail.
func FuzzUnmarshal(f *testing.F) {
	good, _ := New().MarshalBinary()
	f.Add(good)
	f.Add([]byte("sha\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := New()
		if err := d.UnmarshalBinary(b); err != nil {
			return
		}
		d.Write([]byte("x"))
		d.Sum(nil)
	})
}

var sink []byte

// BenchmarkTwoStreams: two 1 MiB streams, hashed one after the other with
// crypto/sha256 and together with Write2. Bytes per op are the two streams'.
func BenchmarkTwoStreams(b *testing.B) {
	pa, pb := make([]byte, 1<<20), make([]byte, 1<<20)
	for i := range pa {
		pa[i], pb[i] = byte(i), byte(i*3)
	}
	b.Run("sequential-crypto-sha256", func(b *testing.B) {
		b.SetBytes(2 << 20)
		for b.Loop() {
			x, y := sha256.Sum256(pa), sha256.Sum256(pb)
			sink = append(x[:], y[:]...)
		}
	})
	b.Run("one-lane", func(b *testing.B) {
		b.SetBytes(2 << 20)
		for b.Loop() {
			x, y := New(), New()
			x.Write(pa)
			y.Write(pb)
			sink = y.Sum(x.Sum(nil))
		}
	})
	b.Run("write2", func(b *testing.B) {
		b.SetBytes(2 << 20)
		for b.Loop() {
			x, y := New(), New()
			Write2(x, y, pa, pb)
			sink = y.Sum(x.Sum(nil))
		}
	})
}
