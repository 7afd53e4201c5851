package luks

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// memDev is an in-memory device.
type memDev struct {
	mu sync.Mutex
	b  []byte
}

func newMemDev(size int) *memDev { return &memDev{b: make([]byte, size)} }

func (d *memDev) ReadAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off >= int64(len(d.b)) {
		return 0, io.EOF
	}
	n := copy(p, d.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (d *memDev) WriteAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off+int64(len(p)) > int64(len(d.b)) {
		return 0, errors.New("write past end")
	}
	return copy(d.b[off:], p), nil
}

func (d *memDev) clone() *memDev { return &memDev{b: append([]byte(nil), d.b...)} }

// readOnly hides WriteAt.
type readOnly struct{ io.ReaderAt }

var cheap = PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000}
var cheapArgon = PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: 64, Parallel: 1}

const testSize = 20 << 20

func format(t testing.TB, opt FormatOptions) (*memDev, *Container, *VolumeKey) {
	t.Helper()
	d := newMemDev(testSize)
	if opt.PBKDF.Type == "" {
		opt.PBKDF = cheap
	}
	c, vk, err := Format(d, testSize, []byte("correct horse"), opt)
	if err != nil {
		t.Fatal(err)
	}
	return d, c, vk
}

func TestFormatUnlockAllKDFs(t *testing.T) {
	for _, p := range []PBKDF{
		cheap,
		{Type: "pbkdf2", Hash: "sha512", Iterations: 1000},
		cheapArgon,
		{Type: "argon2i", Iterations: 4, MemoryKiB: 64, Parallel: 2},
	} {
		for _, ks := range []int{32, 64} {
			d, c, vk := format(t, FormatOptions{PBKDF: p, KeySize: ks, SectorSize: 512, Label: "L"})
			c2, err := Open(d, testSize)
			if err != nil {
				t.Fatal(err)
			}
			got, slot, err := c2.Unlock([]byte("correct horse"))
			if err != nil || slot != 0 || !bytes.Equal(got.Bytes(), vk.Bytes()) {
				t.Fatalf("%v/%d: unlock: slot %d err %v", p.Type, ks, slot, err)
			}
			if _, _, err := c2.Unlock([]byte("correct horse ")); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
			if c2.Label() != "L" || c2.KeySize() != ks || c2.SectorSize() != 512 || c2.UUID() != c.UUID() {
				t.Fatalf("accessors: %q %d %d %q", c2.Label(), c2.KeySize(), c2.SectorSize(), c2.UUID())
			}
			if !c2.State().InSync {
				t.Fatalf("state %+v", c2.State())
			}
		}
	}
}

func TestFormatRejectsBadOptions(t *testing.T) {
	for _, opt := range []FormatOptions{
		{KeySize: 48, PBKDF: cheap},
		{SectorSize: 1000, PBKDF: cheap},
		{Label: strings.Repeat("x", 48), PBKDF: cheap},
		{UUID: "nope", PBKDF: cheap},
		{PBKDF: PBKDF{Type: "scrypt"}},
		{PBKDF: PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: MaxMemoryKiB + 1}},
		{VolumeKey: make([]byte, 10), PBKDF: cheap},
	} {
		d := newMemDev(testSize)
		if _, _, err := Format(d, testSize, []byte("p"), opt); err == nil {
			t.Errorf("%+v: accepted", opt)
		}
		if !bytes.Equal(d.b, make([]byte, testSize)) {
			t.Errorf("%+v: device changed on error", opt)
		}
	}
	d := newMemDev(1 << 20)
	if _, _, err := Format(d, 1<<20, []byte("p"), FormatOptions{PBKDF: cheap}); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("small device: %v", err)
	}
}

func TestKeyslotsAndTokens(t *testing.T) {
	d, c, vk := format(t, FormatOptions{})
	slot, err := c.AddKeyslot(vk, []byte("second"), -1, cheapArgon)
	if err != nil || slot != 1 {
		t.Fatalf("add: %d %v", slot, err)
	}
	if _, err := c.AddKeyslot(vk, []byte("x"), 1, cheap); !errors.Is(err, ErrKeyslotInUse) {
		t.Fatalf("slot in use: %v", err)
	}
	if _, err := c.AddKeyslot(NewVolumeKey(make([]byte, 64)), []byte("x"), 5, cheap); !errors.Is(err, ErrWrongVolumeKey) {
		t.Fatalf("wrong vk: %v", err)
	}
	if s, err := c.AddKeyslot(vk, []byte("seventh"), 7, cheap); err != nil || s != 7 {
		t.Fatal(s, err)
	}
	tok := []byte(`{"type":"travelkit-test","keyslots":["1","7"],"x":{"nested":[1,2]}}`)
	id, err := c.AddToken(-1, tok)
	if err != nil || id != 0 {
		t.Fatal(id, err)
	}
	if _, err := c.AddToken(3, []byte(`{"type":"t","keyslots":["9"]}`)); err == nil {
		t.Fatal("token naming a missing keyslot accepted")
	}
	c2, err := Open(d, testSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, s, err := c2.Unlock([]byte("seventh")); err != nil || s != 7 {
		t.Fatal(s, err)
	}
	toks := c2.Tokens()
	if len(toks) != 1 || toks[0].Type != "travelkit-test" || len(toks[0].Keyslots) != 2 {
		t.Fatalf("tokens %+v", toks)
	}
	// Removing keyslot 1 drops it from the token and the digest.
	if err := c2.RemoveKeyslot(1, false); err != nil {
		t.Fatal(err)
	}
	c3, err := Open(d, testSize)
	if err != nil {
		t.Fatal(err)
	}
	if toks := c3.Tokens(); len(toks[0].Keyslots) != 1 || toks[0].Keyslots[0] != 7 {
		t.Fatalf("token after kill: %+v", toks)
	}
	var obj map[string]any
	json.Unmarshal(c3.Tokens()[0].JSON, &obj)
	if obj["x"] == nil {
		t.Fatal("unknown token fields lost")
	}
	if _, err := c3.UnlockSlot([]byte("second"), 1); !errors.Is(err, ErrNoSuchKeyslot) {
		t.Fatal(err)
	}
	if err := c3.RemoveToken(0); err != nil {
		t.Fatal(err)
	}
	if err := c3.RemoveKeyslot(0, false); err != nil {
		t.Fatal(err)
	}
	if err := c3.RemoveKeyslot(7, false); !errors.Is(err, ErrLastKeyslot) {
		t.Fatalf("last keyslot: %v", err)
	}
	if err := c3.RemoveKeyslot(7, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c3.Unlock([]byte("seventh")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatal(err)
	}
}

// MaxTokenJSON is the JSON area of the largest header the format allows, and AddToken
// refuses a token longer than that before reading it.
func TestMaxTokenJSON(t *testing.T) {
	if want := validHeaderSizes[len(validHeaderSizes)-1] - binHeaderSize; MaxTokenJSON != want {
		t.Fatalf("MaxTokenJSON %d, want %d", MaxTokenJSON, want)
	}
	_, c, _ := format(t, FormatOptions{})
	tok := []byte(`{"type":"t","keyslots":["0"]}`)
	big := append(tok, bytes.Repeat([]byte(" "), MaxTokenJSON+1-len(tok))...)
	if _, err := c.AddToken(-1, big); err == nil || !strings.Contains(err.Error(), "no LUKS2 header holds") {
		t.Fatalf("a token of %d bytes: %v", len(big), err)
	}
	if _, err := c.AddToken(-1, tok); err != nil {
		t.Fatal(err)
	}
}

func TestChangePassphraseAndPriority(t *testing.T) {
	d, c, vk := format(t, FormatOptions{})
	if _, err := c.AddKeyslot(vk, []byte("b"), 3, cheap); err != nil {
		t.Fatal(err)
	}
	if s, err := c.ChangePassphrase([]byte("correct horse"), []byte("new"), -1, cheap); err != nil || s != 0 {
		t.Fatal(s, err)
	}
	c2, _ := Open(d, testSize)
	if _, _, err := c2.Unlock([]byte("correct horse")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatal(err)
	}
	if _, s, err := c2.Unlock([]byte("new")); err != nil || s != 0 {
		t.Fatal(s, err)
	}
	// priority 0: not tried unless named
	if err := c2.SetPriority(3, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c2.Unlock([]byte("b")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatal("priority-0 slot was tried")
	}
	if _, err := c2.UnlockSlot([]byte("b"), 3); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedHeaders(t *testing.T) {
	d, c, _ := format(t, FormatOptions{})
	// primary JSON damaged: the secondary is used
	p := d.clone()
	p.b[4096+10] ^= 0xff
	c2, err := Open(p, testSize)
	if err != nil {
		t.Fatal(err)
	}
	if c2.State().UsedCopy != "secondary" || c2.State().PrimaryErr == nil || !c2.NeedsRepair() {
		t.Fatalf("state %+v", c2.State())
	}
	if _, _, err := c2.Unlock([]byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	if err := c2.Repair(); err != nil {
		t.Fatal(err)
	}
	c3, err := Open(p, testSize)
	if err != nil || !c3.State().InSync || c3.UUID() != c.UUID() {
		t.Fatalf("after repair: %v %+v", err, c3.State())
	}
	// primary binary header magic destroyed: the secondary is found
	p = d.clone()
	copy(p.b[0:6], "XXXXXX")
	if c2, err := Open(p, testSize); err != nil || c2.State().UsedCopy != "secondary" {
		t.Fatalf("no primary magic: %v", err)
	}
	// both damaged
	p = d.clone()
	p.b[4096+10] ^= 0xff
	p.b[DefaultHeaderSize+4096+10] ^= 0xff
	if _, err := Open(p, testSize); !errors.Is(err, ErrBothHeadersBad) {
		t.Fatalf("both damaged: %v", err)
	}
	// newer seqid wins
	p = d.clone()
	c4, _ := Open(p, testSize)
	c4.SetPriority(0, 2)
	copy(p.b[:DefaultHeaderSize], d.b[:DefaultHeaderSize]) // primary rolled back
	c5, err := Open(p, testSize)
	if err != nil || c5.State().UsedCopy != "secondary" || c5.Keyslots()[0].Priority != 2 {
		t.Fatalf("seqid: %v %+v", err, c5.State())
	}
}

func TestNotLUKSAndLUKS1(t *testing.T) {
	d := newMemDev(testSize)
	if _, err := Open(d, testSize); !errors.Is(err, ErrNotLUKS) {
		t.Fatal(err)
	}
	copy(d.b, magicPrimary)
	d.b[7] = 1
	copy(d.b[offUUID:], "0a1b2c3d-0000-4000-8000-000000000000")
	var l1 *LUKS1Error
	if _, err := Open(d, testSize); !errors.As(err, &l1) || !strings.Contains(err.Error(), "LUKS1") {
		t.Fatal(err)
	}
	if _, err := Open(d, 100); !errors.Is(err, ErrNotLUKS) {
		t.Fatal(err)
	}
}

func TestTruncatedAndReadOnly(t *testing.T) {
	d, _, vk := format(t, FormatOptions{})
	c, err := Open(readOnly{d}, testSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddKeyslot(vk, []byte("x"), -1, cheap); err == nil {
		t.Fatal("write on read-only device")
	}
	v, err := c.OpenVolume(vk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("volume write on read-only device")
	}
	// truncated within the payload start: the header opens, the volume does not
	c2, err := Open(d, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.OpenVolume(vk); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatal(err)
	}
	// truncated within the keyslot area
	c3, err := Open(d, 40<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c3.Unlock([]byte("correct horse")); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatal(err)
	}
}

func TestErase(t *testing.T) {
	d, c, vk := format(t, FormatOptions{})
	c.AddKeyslot(vk, []byte("b"), 5, cheap)
	if err := c.Erase(); err != nil {
		t.Fatal(err)
	}
	c2, err := Open(d, testSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(c2.Keyslots()) != 0 {
		t.Fatal("keyslots left")
	}
	// even the old keyslot JSON would not help: the areas are random now
	if bytes.Count(d.b[32768:32768+258048], []byte{0}) > 258048/100 {
		t.Fatal("keyslot area not wiped")
	}
}

func TestVolumeReadWrite(t *testing.T) {
	for _, ss := range []int{512, 4096} {
		d, c, vk := format(t, FormatOptions{SectorSize: ss})
		v, err := c.OpenVolume(vk)
		if err != nil {
			t.Fatal(err)
		}
		size := int(v.Size())
		if size != testSize-DefaultDataOffset {
			t.Fatalf("size %d", size)
		}
		model := make([]byte, size) // unwritten sectors decrypt to noise: start from what is there
		if _, err := v.ReadAt(model, 0); err != nil {
			t.Fatal(err)
		}
		r := mrand.New(mrand.NewPCG(1, uint64(ss)))
		for i := 0; i < 300; i++ {
			n := r.IntN(3 * ss)
			if i%10 == 0 {
				n = r.IntN(2 << 20)
			}
			off := r.IntN(size - n + 1)
			if i%3 == 0 {
				off -= off % ss
			}
			buf := make([]byte, n)
			rand.Read(buf)
			copy(model[off:], buf)
			if i%2 == 0 { // in place (aligned: encrypted in buf; else as WriteAt)
				if _, err := v.WriteAtInPlace(buf, int64(off)); err != nil {
					t.Fatal(err)
				}
			} else if _, err := v.WriteAt(buf, int64(off)); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]byte, size)
		if _, err := v.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, model) {
			t.Fatalf("ss %d: payload differs from model", ss)
		}
		for i := 0; i < 200; i++ {
			n := r.IntN(3 * ss)
			off := r.IntN(size - n + 1)
			b := make([]byte, n)
			if _, err := v.ReadAt(b, int64(off)); err != nil || !bytes.Equal(b, model[off:off+n]) {
				t.Fatalf("read %d@%d: %v", n, off, err)
			}
		}
		// reads past the end
		b := make([]byte, 10)
		if n, err := v.ReadAt(b, int64(size-4)); n != 4 || err != io.EOF {
			t.Fatal(n, err)
		}
		if _, err := v.WriteAt(b, int64(size-4)); err == nil {
			t.Fatal("write past end accepted")
		}
		// ciphertext on disk is not the plaintext
		if bytes.Contains(d.b[DefaultDataOffset:], model[:4096]) {
			t.Fatal("plaintext on disk")
		}
		v.Close()
		if _, err := v.ReadAt(b, 0); err == nil {
			t.Fatal("read after close")
		}
	}
}

func TestAFRoundTrip(t *testing.T) {
	for _, n := range []int{32, 64} {
		key := make([]byte, n)
		rand.Read(key)
		h, _ := hashFunc("sha256")
		m, err := afSplit(key, luksStripes, h)
		if err != nil {
			t.Fatal(err)
		}
		if got := afMerge(m, n, luksStripes, h); !bytes.Equal(got, key) {
			t.Fatal("AF round trip")
		}
		m[100] ^= 1
		if got := afMerge(m, n, luksStripes, h); bytes.Equal(got, key) {
			t.Fatal("AF not diffused")
		}
	}
}

func TestPBKDF2Vectors(t *testing.T) {
	// RFC 7914 section 11 (PBKDF2-HMAC-SHA256)
	h, _ := hashFunc("sha256")
	got, _ := pbkdf2Key(h, []byte("passwd"), []byte("salt"), 1, 64)
	want := "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
	if hexs(got) != want {
		t.Fatalf("pbkdf2: %x", got)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

// TestVolumeConcurrentWrites: whole-sector writes (WriteAt and WriteAtInPlace) run at once
// from several goroutines beside partial-sector writes, each in its own range; every
// range reads back as written. `make test` runs it under the race detector.
func TestVolumeConcurrentWrites(t *testing.T) {
	_, c, vk := format(t, FormatOptions{SectorSize: 4096})
	v, err := c.OpenVolume(vk)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const writers, span = 4, 512 << 10 // the payload is 4 MiB
	want := make([][]byte, writers+1)
	var wg sync.WaitGroup
	for w := 0; w <= writers; w++ {
		want[w] = make([]byte, span)
		rand.Read(want[w])
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			base := int64(w) * span
			r := mrand.New(mrand.NewPCG(uint64(w), 7))
			for off := 0; off < span; {
				n := min(span-off, 4096*(1+r.IntN(80)))
				if w == writers { // partial sectors: read-modify-write
					n = min(span-off, 1+r.IntN(9000))
				}
				buf := append([]byte(nil), want[w][off:off+n]...)
				var err error
				if w%2 == 0 {
					_, err = v.WriteAtInPlace(buf, base+int64(off))
				} else {
					_, err = v.WriteAt(buf, base+int64(off))
				}
				if err != nil {
					t.Error(err)
					return
				}
				off += n
			}
		}(w)
	}
	// two goroutines patching the same sectors, 100-byte pieces taken in turn: the
	// read-modify-write of a partial sector is serialised, so neither loses the other's
	shared := make([]byte, 64<<10)
	rand.Read(shared)
	base := int64(writers+1) * span
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for off := g * 100; off < len(shared); off += 200 {
				n := min(100, len(shared)-off)
				if _, err := v.WriteAt(append([]byte(nil), shared[off:off+n]...), base+int64(off)); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	for w := range want {
		got := make([]byte, span)
		if _, err := v.ReadAt(got, int64(w)*span); err != nil || !bytes.Equal(got, want[w]) {
			t.Fatalf("range %d reads back wrong: %v", w, err)
		}
	}
	got := make([]byte, len(shared))
	if _, err := v.ReadAt(got, base); err != nil || !bytes.Equal(got, shared) {
		t.Fatalf("sectors patched by two goroutines read back wrong (a lost update): %v", err)
	}
}
