package graphic

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"travelkit/i18n"
	"travelkit/internal/ocr"
	"travelkit/menu"
	"travelkit/vmtest"
)

var (
	fontsOnce sync.Once
	fonts     [][]byte
	fontsErr  error
)

// screenFonts are the boot bundle's screen fonts (Debian's fonts-noto-core, gathered by
// scripts/bootenv.sh for the boot tests).
func screenFonts(t *testing.T) [][]byte {
	t.Helper()
	fontsOnce.Do(func() {
		var dir string
		if dir, fontsErr = vmtest.BootBundle(context.Background()); fontsErr != nil {
			return
		}
		var names []string
		if names, fontsErr = filepath.Glob(filepath.Join(dir, "boot", "fonts", "*.ttf")); fontsErr != nil {
			return
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				fontsErr = err
				return
			}
			fonts = append(fonts, b)
		}
	})
	if fontsErr != nil {
		t.Fatal(fontsErr)
	}
	if len(fonts) < 2 {
		t.Fatalf("the boot bundle holds %d screen fonts, want Noto Sans and Noto Naskh Arabic", len(fonts))
	}
	return fonts
}

// mainScreen is the boot menu's main screen in lang.
func mainScreen(lang string) *menu.Screen {
	p := i18n.New(lang)
	return &menu.Screen{
		Title:  "travelkit — kit 3f9a",
		Status: p.T("menu.sb.on"),
		Body:   []string{p.T("menu.main.body")},
		Items: []string{p.T("menu.main.restore"), p.T("menu.main.rescue"), p.T("menu.main.check"),
			p.T("menu.main.language"), p.T("menu.main.poweroff"), p.T("menu.main.reboot")},
		Selected: 1,
		Help:     p.T("menu.help.choose"),
		RTL:      i18n.RTL(lang),
		Lang:     lang,
	}
}

func render(t *testing.T, r *Renderer, s *menu.Screen, w, h int) *image.RGBA {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r.Draw(img, s)
	if d := os.Getenv("TRAVELKIT_SCREENSHOTS"); d != "" { // to look at them
		f, err := os.Create(filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_")+".png"))
		if err == nil {
			png.Encode(f, img)
			f.Close()
		}
	}
	return img
}

// wantWords are the words of the main screen's items, which OCR must find.
func wantWords(s *menu.Screen) []string {
	return append([]string{s.Body[0]}, s.Items...)
}

// TestArabicPersianReadable draws the main screen in Arabic and Persian and reads it back
// with tesseract: the letters are joined and the words run right to left, or OCR does
// not find them.
func TestArabicPersianReadable(t *testing.T) {
	r, err := NewRenderer(screenFonts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if !r.DrawsArabic() {
		t.Fatal("no font with Arabic letters")
	}
	for _, lang := range []string{"ar", "fa"} {
		t.Run(lang, func(t *testing.T) {
			s := mainScreen(lang)
			img := render(t, r, s, 1024, 768)
			text, err := ocr.Read(img, lang, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			found, missing := ocr.Found(wantWords(s), text)
			if len(found) < 3*(len(found)+len(missing))/4 {
				t.Errorf("OCR found %d of %d words; missing %q\nread:\n%s", len(found), len(found)+len(missing), missing, text)
			}
		})
	}
}

// TestUnshapedIsNotReadable: the same screen drawn without shaping (letters in their
// isolated forms, left to right) is not read as the words: the check above can fail.
func TestUnshapedIsNotReadable(t *testing.T) {
	r, err := NewRenderer(screenFonts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	r.noShaping = true
	s := mainScreen("fa")
	img := render(t, r, s, 1024, 768)
	text, err := ocr.Read(img, "fa", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	found, missing := ocr.Found(wantWords(s), text)
	if len(found) >= (len(found)+len(missing))/3 {
		t.Errorf("OCR found %d of %d words in text drawn without shaping: %q\nread:\n%s", len(found), len(found)+len(missing), found, text)
	}
}

// TestEveryScreenFits draws screens with long texts, progress, input and a checklist at a
// small and a large size in every language: nothing panics, and text is drawn.
func TestEveryScreenFits(t *testing.T) {
	r, err := NewRenderer(screenFonts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages() {
		p := i18n.New(lang)
		s := mainScreen(lang)
		s.Body = append(s.Body, "", p.T("menu.unlock.body"), strings.Repeat(p.T("menu.find.none2")+" ", 20), "\x1b[2Jname\u202eevil")
		s.Checked = []bool{true, false, true}
		s.HasInput, s.Input = true, "••••••"
		s.Progress = &menu.Bar{Done: 3, Total: 7, Text: p.T("menu.find.looking")}
		for _, size := range []image.Point{{640, 480}, {1920, 1080}, {100, 30}} {
			img := render(t, r, s, size.X, size.Y)
			lit := 0
			for i := 0; i < len(img.Pix); i += 4 {
				if img.Pix[i] > 0xc0 {
					lit++
				}
			}
			if lit == 0 && size.X > 200 {
				t.Errorf("%s %v: nothing drawn", lang, size)
			}
		}
	}
}

func TestBadFonts(t *testing.T) {
	if _, err := NewRenderer(); err == nil {
		t.Error("no fonts: no error")
	}
	if _, err := NewRenderer([]byte("not a font"), make([]byte, 100)); err == nil {
		t.Error("garbage fonts: no error")
	}
	good := screenFonts(t)[0]
	for _, n := range []int{12, 100, 1000, len(good) / 2} {
		NewRenderer(good[:n]) // errors, never panics
	}
}

// countingFB counts the frames put on it.
type countingFB struct{ frames int }

func (f *countingFB) Bounds() image.Rectangle { return image.Rect(0, 0, 320, 200) }
func (f *countingFB) Put(*image.RGBA) error   { f.frames++; return nil }

// TestProgressThrottled: a burst of progress screens draws one frame (and the text
// display gets them all); other screens are always drawn.
func TestProgressThrottled(t *testing.T) {
	r, err := NewRenderer(screenFonts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	fb := &countingFB{}
	var text strings.Builder
	d := NewDisplay(r, fb, menu.NewTextDisplay(&text))
	for i := 0; i < 10; i++ {
		d.Show(&menu.Screen{Title: "t", Progress: &menu.Bar{Done: int64(i), Total: 10}})
	}
	if fb.frames != 1 {
		t.Errorf("10 progress screens in a burst drew %d frames, want 1", fb.frames)
	}
	if n := strings.Count(text.String(), "\x1b[2J"); n != 10 {
		t.Errorf("the text display got %d screens, want 10", n)
	}
	d.Show(&menu.Screen{Title: "t", Progress: &menu.Bar{Done: 10, Total: 10}})
	d.Show(&menu.Screen{Title: "done"})
	if fb.frames != 3 {
		t.Errorf("the finished bar and the next screen drew %d frames in all, want 3", fb.frames)
	}
	if !d.DrawsArabic() || d.Err() != nil {
		t.Errorf("DrawsArabic %v, Err %v", d.DrawsArabic(), d.Err())
	}
}
