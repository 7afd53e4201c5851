package graphic

import (
	"runtime"
	"testing"

	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// FuzzParseFont: the menu's screen fonts come from the initramfs on the tools partition;
// a damaged one must give an error, not take the boot environment down or exhaust its
// memory (the parser is go-text's; parseFont turns its panics into errors).
func FuzzParseFont(f *testing.F) {
	f.Add(goregular.TTF)
	f.Add(gomono.TTF[:4096])
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		face, err := parseFont(b)
		if err == nil && face != nil {
			for _, r := range "Aa1 ب" {
				face.NominalGlyph(r)
			}
		}
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20+32*uint64(len(b)) {
			t.Fatalf("%d bytes allocated for a %d-byte font", a, len(b))
		}
	})
}
