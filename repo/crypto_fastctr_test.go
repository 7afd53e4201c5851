package repo

import (
	"bytes"
	"context"
	"crypto/cipher"
	"fmt"
	"strings"
	"testing"
)

// TestOpenBlobDespiteBrokenFastCTR: blobs are decrypted with internal/aesctr (VAES);
// should its keystream ever be wrong, every good blob, compressed or not, still opens
// with its content (decrypted again with crypto/aes once its ID does not check out),
// check --read-data reports nothing, and a blob whose content does not match its ID
// is still reported once.
func TestOpenBlobDespiteBrokenFastCTR(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	r.PackSize = 600 << 10
	r.StartSaving(ctx, 1)
	var blobs [][]byte
	for i := 0; i < 8; i++ {
		b := randomBytes(i, 100<<10+i*777)
		if i%2 == 0 {
			b = bytes.Repeat([]byte(fmt.Sprintf("line %d of a text file\n", i)), 5000+i)
		}
		blobs = append(blobs, b)
	}
	blobs = append(blobs, []byte("tiny"), nil)
	ids, _ := saveContent(t, r, blobs)
	liar := randomBytes(99, 50<<10)
	liarID := Hash([]byte("something else"))
	if _, err := r.SaveBlob(DataBlob, liarID, liar, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fastCTRBroken = nil })
	for _, broken := range []bool{false, true} {
		fastCTRBroken = nil
		if broken {
			// a wrong keystream (its own inverse, as any keystream XORed is)
			fastCTRBroken = func(ct []byte, iv *[ivSize]byte) {
				cipher.NewCTR(r.key.block, iv[:]).XORKeyStream(ct, ct)
				for i := 0; i < len(ct); i += 999 {
					ct[i] ^= 0x5a
				}
			}
		}
		r2 := openTestRepo(t, NewFolder(dir))
		for i, id := range ids {
			got, err := r2.LoadBlob(ctx, DataBlob, id, nil)
			if err != nil || !bytes.Equal(got, blobs[i]) {
				t.Fatalf("broken %v: blob %d: %v", broken, i, err)
			}
		}
		res, err := r2.Check(ctx, CheckOptions{ReadData: true})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range res.Errors {
			s = append(s, e.Error())
		}
		all := strings.Join(s, "\n")
		if len(s) != 1 || !strings.Contains(all, liarID.Str()) || !strings.Contains(all, "content does not match its ID") {
			t.Errorf("broken %v: want the lying blob %s reported once, got:\n%s", broken, liarID.Str(), all)
		}
		r2.Close()
	}
}

// TestOpenFastIsOpen: the fast path itself gives Open's plaintext (so that blobs do not
// quietly live on the fallback), for lengths around the assembly's thresholds.
func TestOpenFastIsOpen(t *testing.T) {
	k := NewRandomKey()
	for _, n := range []int{0, 1, 63, 64, 255, 256, 257, 1000, 4096, 1<<20 + 3} {
		plain := randomBytes(n, n)
		sealed := k.Seal(nil, plain)
		want, err := k.Open(nil, sealed)
		if err != nil || !bytes.Equal(want, plain) {
			t.Fatal(err)
		}
		got, err := k.openFast(sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: openFast differs (%v)", n, err)
		}
		if !k.unFast(sealed) {
			t.Fatalf("%d bytes: unFast did not give the ciphertext back", n)
		}
	}
}
