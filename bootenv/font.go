package bootenv

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Font is a console font (PSF version 1 or 2, as Debian's console-setup ships them).
type Font struct {
	Width, Height int
	Glyphs        [][]byte // each Height rows of (Width+7)/8 bytes
	// Map lists which Unicode code points each glyph draws.
	Map []FontMapping
}

// FontMapping says glyph Glyph draws code point Rune.
type FontMapping struct {
	Rune  rune
	Glyph int
}

const (
	maxFontFile   = 1 << 20
	maxGlyphs     = 512 // what the Linux text console holds
	maxFontHeight = 32
	maxFontWidth  = 32
	maxFontMap    = 1 << 16
)

// ParseFont reads a PSF font, gzipped or not. The font comes from our own initramfs, yet
// every count and size is bounded.
func ParseFont(data []byte) (*Font, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("font: %w", err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxFontFile+1))
		if err != nil {
			return nil, fmt.Errorf("font: %w", err)
		}
	}
	if len(data) > maxFontFile {
		return nil, errors.New("font: too large")
	}
	switch {
	case len(data) >= 4 && data[0] == 0x36 && data[1] == 0x04:
		return parsePSF1(data)
	case len(data) >= 32 && binary.LittleEndian.Uint32(data) == 0x864ab572:
		return parsePSF2(data)
	}
	return nil, errors.New("font: not a PSF font")
}

func parsePSF1(data []byte) (*Font, error) {
	mode, height := data[2], int(data[3])
	n := 256
	if mode&1 != 0 {
		n = 512
	}
	if height == 0 || height > maxFontHeight || len(data) < 4+n*height {
		return nil, errors.New("font: truncated PSF1 glyphs")
	}
	f := &Font{Width: 8, Height: height}
	for i := 0; i < n; i++ {
		f.Glyphs = append(f.Glyphs, data[4+i*height:4+(i+1)*height])
	}
	if mode&6 == 0 {
		return f, nil
	}
	tab := data[4+n*height:]
	g := 0
	inSeq := false
	for len(tab) >= 2 && g < n && len(f.Map) < maxFontMap {
		v := binary.LittleEndian.Uint16(tab)
		tab = tab[2:]
		switch v {
		case 0xffff:
			g++
			inSeq = false
		case 0xfffe:
			inSeq = true
		default:
			if !inSeq {
				f.Map = append(f.Map, FontMapping{Rune: rune(v), Glyph: g})
			}
		}
	}
	return f, nil
}

func parsePSF2(data []byte) (*Font, error) {
	le := binary.LittleEndian
	hdr, flags := int(le.Uint32(data[8:])), le.Uint32(data[12:])
	n, size := int(le.Uint32(data[16:])), int(le.Uint32(data[20:]))
	height, width := int(le.Uint32(data[24:])), int(le.Uint32(data[28:]))
	if hdr < 32 || hdr > len(data) || n <= 0 || n > maxGlyphs || height <= 0 || height > maxFontHeight ||
		width <= 0 || width > maxFontWidth || size != height*((width+7)/8) || len(data)-hdr < n*size {
		return nil, errors.New("font: bad PSF2 header")
	}
	f := &Font{Width: width, Height: height}
	for i := 0; i < n; i++ {
		f.Glyphs = append(f.Glyphs, data[hdr+i*size:hdr+(i+1)*size])
	}
	if flags&1 == 0 {
		return f, nil
	}
	tab := data[hdr+n*size:]
	g := 0
	inSeq := false
	for len(tab) > 0 && g < n && len(f.Map) < maxFontMap {
		switch tab[0] {
		case 0xff:
			g++
			inSeq = false
			tab = tab[1:]
			continue
		case 0xfe:
			inSeq = true
			tab = tab[1:]
			continue
		}
		r, sz := utf8.DecodeRune(tab)
		tab = tab[sz:]
		if r != utf8.RuneError && !inSeq {
			f.Map = append(f.Map, FontMapping{Rune: r, Glyph: g})
		}
	}
	return f, nil
}

// Covers reports whether the font has a glyph for every rune of s (spaces aside).
func (f *Font) Covers(s string) bool {
	have := map[rune]bool{}
	for _, m := range f.Map {
		have[m.Rune] = true
	}
	for _, r := range s {
		if r != ' ' && !have[r] {
			return false
		}
	}
	return true
}

// kernelData lays the glyphs out as the kernel's KDFONTOP wants them: 32 rows a glyph.
func (f *Font) kernelData() []byte {
	pitch := (f.Width + 7) / 8
	out := make([]byte, len(f.Glyphs)*32*pitch)
	for i, g := range f.Glyphs {
		copy(out[i*32*pitch:], g)
	}
	return out
}
