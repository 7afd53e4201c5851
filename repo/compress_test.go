package repo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"
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
