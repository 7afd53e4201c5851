package repo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
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
		{"random 1 KiB - 1", randomBytes(1, 1<<10-1), false},
		{"random 1 KiB", randomBytes(1, 1<<10), true},
		{"random 1500", randomBytes(7, 1500), true},
		{"random 2 KiB", randomBytes(8, 2<<10), true},
		{"random 3000", randomBytes(9, 3000), true},
		// from 2 KiB + 1 to 2730 bytes a sample a quarter in would end past the blob
		{"random 2049", slices.Clip(randomBytes(12, 2049)), true},
		{"random 2500", slices.Clip(randomBytes(13, 2500)), true},
		{"random 2730", slices.Clip(randomBytes(14, 2730)), true},
		{"random 2049, zeros past its end", append(randomBytes(15, 2049), make([]byte, 4<<10)...)[:2049], true},
		{"random 4 KiB", randomBytes(1, 4<<10), true},
		{"random 5000", randomBytes(1, 5000), true},
		{"text 1 KiB", text[:1<<10], false},
		{"hex 1500", []byte(hex.EncodeToString(randomBytes(10, 750))), false},
		{"random 1500, text at the end", append(randomBytes(11, 1100), text[:400]...), false},
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

// looksCompressible takes a large random blob for random without compressing
// a sample, and compresses samples (finding what shrinks) of one that is text,
// text in its middle only, or random bytes repeated.
func TestLooksCompressible(t *testing.T) {
	text := bytes.Repeat([]byte("Dear Ana, the files are in the blue folder; call me when you land. "), 20000)
	random := randomBytes(12, 1<<20)
	mid := randomBytes(13, 1<<20)
	copy(mid[len(mid)/2-8<<10:], text[:16<<10])
	repeated := bytes.Repeat(randomBytes(14, 4<<10), 256)
	enc, err := zstd.NewWriter(nil, zstdOptions(zstd.WithEncoderConcurrency(1))...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		data    []byte
		want    bool
		samples bool // whether zstd must see a sample
	}{
		{"random 1 MiB", random, false, false},
		{"random 256 KiB", random[:256<<10], false, false},
		{"text 1 MiB", text[:1<<20], true, true},
		{"random, text in the middle", mid, true, true},
		{"random 4 KiB repeated", repeated, false, false}, // what the histograms cannot see
	} {
		n := 0
		got := looksCompressible(c.data, func(b []byte) int { n++; return len(enc.EncodeAll(b, nil)) })
		if got != c.want || (n > 0) != c.samples {
			t.Errorf("%s: looksCompressible %v with %d samples compressed, want %v (samples: %v)", c.name, got, n, c.want, c.samples)
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
