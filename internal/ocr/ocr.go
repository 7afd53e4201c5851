package ocr

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/image/draw"
)

// Languages maps travelkit's language codes to tesseract's.
var Languages = map[string]string{"en": "eng", "ar": "ara", "fa": "fas"}

// Read returns the text tesseract reads in img, in language lang (en, ar, fa). The
// picture is made grey, light text on dark is turned dark on light, and it is scaled to
// twice its size: what tesseract reads best.
func Read(img image.Image, lang, dir string) (string, error) {
	tl, ok := Languages[lang]
	if !ok {
		return "", fmt.Errorf("ocr: no tesseract language for %q", lang)
	}
	b := img.Bounds()
	grey := image.NewGray(b)
	var sum uint64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			grey.SetGray(x, y, g)
			sum += uint64(g.Y)
		}
	}
	if n := uint64(b.Dx() * b.Dy()); n > 0 && sum/n < 128 { // mostly dark: invert
		for i := range grey.Pix {
			grey.Pix[i] = 255 - grey.Pix[i]
		}
	}
	big := image.NewGray(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.CatmullRom.Scale(big, big.Bounds(), grey, b, draw.Src, nil)
	f, err := os.CreateTemp(dir, "screen-*.png")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := png.Encode(f, big); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return File(f.Name(), tl)
}

// File runs tesseract on a picture file with a tesseract language (ara, fas, eng).
func File(path, tessLang string) (string, error) {
	bin, err := exec.LookPath("tesseract")
	if err != nil {
		return "", fmt.Errorf("tesseract not installed (Debian package tesseract-ocr; scripts/install-test-deps.sh): %w", err)
	}
	cmd := exec.Command(bin, filepath.Clean(path), "stdout", "-l", tessLang, "--psm", "4")
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		return "", fmt.Errorf("tesseract %s -l %s: %v %s", path, tessLang, err, msg)
	}
	return string(out), nil
}

// Words splits text into normalized words of letters (see Normalize).
func Words(text string) []string {
	return strings.FieldsFunc(Normalize(text), func(r rune) bool { return !unicode.IsLetter(r) })
}

// Normalize folds what OCR and typing disagree on and a reader does not: Arabic and
// Persian forms of yeh and kaf, hamza seats on alef, teh marbuta, diacritics, tatweel and
// the zero-width non-joiner; Latin case.
func Normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r), r == 'ـ', r == '\u200c', r == '\u200d', r == '\u200f', r == '\u200e':
			continue
		case r == 'ي' || r == 'ى' || r == 'ئ':
			r = 'ی'
		case r == 'ك':
			r = 'ک'
		case r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ':
			r = 'ا'
		case r == 'ة' || r == 'ۀ' || r == 'ە':
			r = 'ه'
		case r == 'ؤ':
			r = 'و'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Found returns which of the words of want (of three letters or more) appear among the
// words read.
func Found(want []string, read string) (found, missing []string) {
	have := map[string]bool{}
	for _, w := range Words(read) {
		have[w] = true
	}
	seen := map[string]bool{}
	for _, text := range want {
		for _, w := range Words(text) {
			if len([]rune(w)) < 3 || seen[w] {
				continue
			}
			seen[w] = true
			if have[w] {
				found = append(found, w)
			} else {
				missing = append(missing, w)
			}
		}
	}
	return found, missing
}
