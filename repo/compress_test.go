package repo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// looksRandom takes random bytes for random from randomFrom on, and never
// text, hex or base64, a blob whose middle is text, nor one whose end is text.
func TestLooksRandom(t *testing.T) {
	text := bytes.Repeat([]byte("Dear Ana, the files are in the blue folder; call me when you land. "), 4000)
	mid := randomBytes(3, 200<<10)
	copy(mid[len(mid)/2-8<<10:], text[:16<<10])
	end := randomBytes(4, 200<<10)
	copy(end[len(end)-2<<10:], text)
	for _, c := range []struct {
		name string
		data []byte
		want bool
	}{
		{"random 4 KiB - 1", randomBytes(1, 4<<10-1), false},
		{"random 4 KiB", randomBytes(1, 4<<10), true},
		{"random 5000", randomBytes(1, 5000), true},
		{"random 255 KiB", randomBytes(2, 255<<10), true},
		{"text 3 KiB", text[:3<<10], false},
		{"text 200 KiB", text[:200<<10], false},
		{"hex", []byte(hex.EncodeToString(randomBytes(5, 30<<10))), false},
		{"base64", []byte(base64.StdEncoding.EncodeToString(randomBytes(6, 30<<10))), false},
		{"random, text in the middle", mid, false},
		{"random, text at the end", end, false},
		{"zeros", make([]byte, 10<<10), false},
	} {
		if got := looksRandom(c.data); got != c.want {
			t.Errorf("%s: looksRandom %v, want %v", c.name, got, c.want)
		}
	}
}

// TestBlobLongerThanDeclared: a blob whose zstd frame holds a few bytes more than its
// declared length, fewer than the decoder's slack past it, is refused, not cut to length.
func TestBlobLongerThanDeclared(t *testing.T) {
	r := newRepository(newMemStore())
	r.key = NewRandomKey()
	r.cfg = Config{Version: 2}
	enc, err := zstd.NewWriter(nil, zstdOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("a travel kit for the airport "), 300)
	for _, extra := range []int{1, zstdSlack - 1, zstdSlack, zstdSlack + 1} {
		ulen := len(data) - extra
		raw := r.key.Seal(nil, enc.EncodeAll(data, nil))
		pb := PackedBlob{BlobHandle: BlobHandle{ID: Hash(data[:ulen]), Type: DataBlob}, Length: uint32(len(raw)), UncompressedLength: uint32(ulen)}
		got, err := r.openBlob(pb, raw, nil)
		if err == nil {
			t.Fatalf("%d bytes more than declared: accepted %d bytes", extra, len(got))
		}
		if !errors.Is(err, errDeclared) {
			t.Errorf("%d bytes more than declared: %v, want %v", extra, err, errDeclared)
		}
	}
	// and the exact length is read
	raw := r.key.Seal(nil, enc.EncodeAll(data, nil))
	pb := PackedBlob{BlobHandle: BlobHandle{ID: Hash(data), Type: DataBlob}, Length: uint32(len(raw)), UncompressedLength: uint32(len(data))}
	if got, err := r.openBlob(pb, raw, make([]byte, 0, len(data))); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("exact length: %d bytes, %v", len(got), err)
	}
}
