package bootenv

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"runtime"
	"testing"
)

// psf1 makes a PSF1 font of 256 glyphs of height h with a Unicode table mapping glyph
// i to rune 'A'+i for the first n glyphs.
func psf1(h, n int) []byte {
	b := []byte{0x36, 0x04, 0x02, byte(h)}
	b = append(b, make([]byte, 256*h)...)
	for g := 0; g < 256; g++ {
		if g < n {
			b = binary.LittleEndian.AppendUint16(b, uint16('A'+g))
		}
		b = binary.LittleEndian.AppendUint16(b, 0xffff)
	}
	return b
}

// psf2 makes a PSF2 font of n glyphs of w x h with a UTF-8 Unicode table.
func psf2(w, h, n int) []byte {
	size := h * ((w + 7) / 8)
	b := binary.LittleEndian.AppendUint32(nil, 0x864ab572)
	for _, v := range []int{0, 32, 1, n, size, h, w} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = append(b, make([]byte, n*size)...)
	for g := 0; g < n; g++ {
		b = append(b, []byte(string(rune('А'+g%32)))...)
		b = append(b, 0xfe, 'x', 0xff)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestParseFont(t *testing.T) {
	f, err := ParseFont(psf1(16, 26))
	if err != nil || f.Width != 8 || f.Height != 16 || len(f.Glyphs) != 256 || len(f.Map) != 26 || !f.Covers("HELLO") {
		t.Fatalf("PSF1: %+v %v", f, err)
	}
	f, err = ParseFont(gz(psf2(12, 24, 64)))
	if err != nil || f.Width != 12 || f.Height != 24 || len(f.Glyphs) != 64 || len(f.Map) != 64 || !f.Covers("ПРИВЕТ") {
		t.Fatalf("PSF2: %v", err)
	}
	// every count is bounded, whatever the header claims
	big := psf2(8, 16, 1)
	binary.LittleEndian.PutUint32(big[16:], 1<<31) // glyphs
	if _, err := ParseFont(big); err == nil {
		t.Fatal("a PSF2 claiming 2^31 glyphs was accepted")
	}
	bomb := gz(make([]byte, 8<<20))
	if _, err := ParseFont(bomb); err == nil {
		t.Fatal("a gzip of 8 MiB of zeros was accepted")
	}
}

func FuzzParseFont(f *testing.F) {
	f.Add(psf1(16, 26))
	f.Add(psf1(8, 0))
	f.Add(psf2(12, 24, 64))
	f.Add(gz(psf2(8, 16, 256)))
	f.Add(gz(psf1(16, 3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn, err := ParseFont(data)
		runtime.ReadMemStats(&after)
		// gzip's own state and a file of at most maxFontFile, plus the glyph and map
		// tables (slices of that file, a few words each)
		if a := after.TotalAlloc - before.TotalAlloc; a > 4*maxFontFile+uint64(maxFontMap)*32+uint64(maxGlyphs)*32 {
			t.Fatalf("%d bytes allocated for a %d-byte font", a, len(data))
		}
		if err != nil {
			return
		}
		if len(fn.Glyphs) == 0 || len(fn.Glyphs) > maxGlyphs || fn.Height <= 0 || fn.Height > maxFontHeight || fn.Width <= 0 || fn.Width > maxFontWidth || len(fn.Map) > maxFontMap {
			t.Fatalf("font out of bounds accepted: %dx%d, %d glyphs, %d mappings", fn.Width, fn.Height, len(fn.Glyphs), len(fn.Map))
		}
		row := (fn.Width + 7) / 8
		for i, g := range fn.Glyphs {
			if len(g) != fn.Height*row {
				t.Fatalf("glyph %d has %d bytes, want %d", i, len(g), fn.Height*row)
			}
		}
		for _, m := range fn.Map {
			if m.Glyph < 0 || m.Glyph >= len(fn.Glyphs) {
				t.Fatalf("mapping to glyph %d of %d", m.Glyph, len(fn.Glyphs))
			}
		}
		fn.Covers("abc")
		if k := fn.kernelData(); len(k) != len(fn.Glyphs)*32*row {
			t.Fatalf("kernel data of %d bytes", len(k))
		}
	})
}
