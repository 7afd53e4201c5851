package graphic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sort"
	"strings"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"travelkit/menu"
)

// The screen's colours: light text on a dark ground, as the text console.
var (
	colBackground = color.RGBA{0x10, 0x18, 0x28, 0xff}
	colText       = color.RGBA{0xf0, 0xf0, 0xf0, 0xff}
	colTitleBar   = color.RGBA{0x1e, 0x3a, 0x5f, 0xff}
	colSelected   = color.RGBA{0xe8, 0xe8, 0xe8, 0xff}
	colOnSelected = color.RGBA{0x10, 0x18, 0x28, 0xff}
	colDim        = color.RGBA{0xa8, 0xb0, 0xb8, 0xff}
	colRule       = color.RGBA{0x50, 0x60, 0x70, 0xff}
)

const (
	maxFonts    = 8
	maxFontSize = 32 << 20 // one font file
	maxRunes    = 4096     // of one paragraph drawn (longer text is cut)
)

// Renderer lays out and draws screens. It is not safe for concurrent use.
type Renderer struct {
	faces  []*font.Face // Latin first, then Arabic (see resolve)
	arabic []*font.Face // the faces that have Arabic letters
	other  []*font.Face // the others
	shaper shaping.HarfbuzzShaper
	seg    shaping.Segmenter
	wrap   shaping.LineWrapper
	// Shaping skips the reordering of bidirectional runs and Arabic joining: only for the
	// test that shows the OCR check fails on text drawn that way.
	noShaping bool
}

// NewRenderer parses TrueType or OpenType fonts (the boot bundle's boot/fonts/*.ttf). At
// least one must parse. A rune is drawn in the first font that has it, Arabic letters
// in a font made for them.
func NewRenderer(fonts ...[]byte) (*Renderer, error) {
	if len(fonts) == 0 || len(fonts) > maxFonts {
		return nil, fmt.Errorf("screen fonts: %d given, want 1 to %d", len(fonts), maxFonts)
	}
	r := &Renderer{}
	var errs []error
	for i, b := range fonts {
		if len(b) > maxFontSize {
			errs = append(errs, fmt.Errorf("font %d: %d bytes, more than %d", i+1, len(b), maxFontSize))
			continue
		}
		f, err := parseFont(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("font %d: %w", i+1, err))
			continue
		}
		if _, ok := f.NominalGlyph('ب'); ok {
			r.arabic = append(r.arabic, f)
		} else {
			r.other = append(r.other, f)
		}
	}
	r.faces = append(append(r.faces, r.other...), r.arabic...)
	if len(r.faces) == 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// parseFont reads a font; the parser must not take the boot environment down on a
// damaged file. go-text allocates each table at the length the table directory claims
// before it reads it (and a WOFF table at its claimed unpacked length): checkSFNT first
// refuses a directory that points outside the file, so that a 244-byte font cannot ask
// for gigabytes.
func parseFont(b []byte) (f *font.Face, err error) {
	if err := checkSFNT(b); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("damaged font: %v", p)
		}
	}()
	return font.ParseTTF(bytes.NewReader(b))
}

// checkSFNT accepts a single TrueType or OpenType font (no collection, no WOFF) whose
// table records all lie inside b.
func checkSFNT(b []byte) error {
	if len(b) < 12 {
		return errors.New("damaged font: shorter than its header")
	}
	switch string(b[:4]) {
	case "\x00\x01\x00\x00", "OTTO", "true":
	default:
		return fmt.Errorf("not a TrueType or OpenType font (signature %q)", b[:4])
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n == 0 || 12+16*n > len(b) {
		return fmt.Errorf("damaged font: %d tables do not fit in %d bytes", n, len(b))
	}
	for i := range n {
		rec := b[12+16*i:]
		off, size := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(size) > uint64(len(b)) {
			return fmt.Errorf("damaged font: table %q (%d bytes at %d) lies past the end of the file (%d bytes)", rec[:4], size, off, len(b))
		}
	}
	return nil
}

// DrawsArabic reports whether the fonts have Arabic letters.
func (r *Renderer) DrawsArabic() bool { return len(r.arabic) > 0 }

// ResolveFace is shaping.Fontmap: Arabic letters in an Arabic font, everything else in
// the first font that has it (Latin fonts first), else the first font.
func (r *Renderer) ResolveFace(c rune) *font.Face {
	list := r.faces
	if unicode.Is(unicode.Arabic, c) {
		list = append(append([]*font.Face(nil), r.arabic...), r.other...)
	}
	for _, f := range list {
		if _, ok := f.NominalGlyph(c); ok {
			return f
		}
	}
	return r.faces[0]
}

// metrics are the sizes of one screen, from its height.
type metrics struct {
	size   int // font size in pixels (em)
	line   int // line height
	margin int
}

func metricsFor(b image.Rectangle) metrics {
	size := min(max(b.Dy()/32, 14), 40)
	return metrics{size: size, line: size * 17 / 10, margin: size}
}

// Draw draws s over all of img.
func (r *Renderer) Draw(img draw.Image, s *menu.Screen) {
	b := img.Bounds()
	m := metricsFor(b)
	draw.Draw(img, b, image.NewUniform(colBackground), image.Point{}, draw.Src)
	p := &painter{r: r, img: img, m: m, rtl: s.RTL, lang: s.Lang,
		x0: b.Min.X + m.margin, x1: b.Max.X - m.margin, y: b.Min.Y, bottom: b.Max.Y - m.margin}
	helpLines := 0
	if s.Help != "" {
		helpLines = len(p.lines(menu.Sanitize(s.Help), p.x1-p.x0))
		p.bottom -= helpLines*m.line + m.line/2
	}

	// Title bar.
	tl := p.lines(menu.Sanitize(s.Title), p.x1-p.x0)
	if len(tl) > 1 {
		tl = tl[:1]
	}
	fill(img, image.Rect(b.Min.X, p.y, b.Max.X, p.y+m.line+m.margin/2), colTitleBar)
	p.y += m.margin / 4
	p.drawLines(tl, colText)
	p.y += m.margin / 4
	for _, l := range strings.Split(s.Status, "\n") {
		if l != "" {
			p.text(menu.Sanitize(l), colText)
		}
	}
	p.y += m.line / 4
	fill(img, image.Rect(p.x0, p.y, p.x1, p.y+max(1, m.size/12)), colRule)
	p.y += m.line / 2

	for _, para := range s.Body {
		if para == "" {
			p.y += m.line / 2
			continue
		}
		p.text(menu.Sanitize(para), colText)
	}
	if len(s.Items) > 0 {
		p.y += m.line / 2
	}
	for i, it := range s.Items {
		mark := ""
		if s.Checked != nil {
			mark = "[ ] "
			if i < len(s.Checked) && s.Checked[i] {
				mark = "[x] "
			}
		}
		text := fmt.Sprintf("%d. %s%s", i+1, mark, menu.Sanitize(it))
		indent := m.size
		ls := p.lines(text, p.x1-p.x0-2*indent)
		if len(ls) > 2 {
			ls = ls[:2]
		}
		col := colText
		if i == s.Selected {
			fill(img, image.Rect(p.x0, p.y, p.x1, p.y+len(ls)*m.line), colSelected)
			col = colOnSelected
		}
		p.withIndent(indent, func() { p.drawLines(ls, col) })
	}
	if s.HasInput {
		p.y += m.line / 2
		box := image.Rect(p.x0+m.size, p.y, p.x1-m.size, p.y+m.line+m.size/2)
		outline(img, box, max(1, m.size/10), colText)
		p.y += m.size / 4
		p.withIndent(m.size*3/2, func() { p.text(s.Input+"_", colText) })
		p.y += m.size / 4
	}
	if s.Progress != nil {
		p.y += m.line / 2
		frac := 0.0
		if s.Progress.Total > 0 {
			frac = min(max(float64(s.Progress.Done)/float64(s.Progress.Total), 0), 1)
		}
		box := image.Rect(p.x0+m.size, p.y, p.x1-m.size, p.y+m.size)
		outline(img, box, max(1, m.size/10), colText)
		w := int(frac * float64(box.Dx()))
		done := image.Rect(box.Min.X, box.Min.Y, box.Min.X+w, box.Max.Y)
		if s.RTL {
			done = image.Rect(box.Max.X-w, box.Min.Y, box.Max.X, box.Max.Y)
		}
		fill(img, done, colText)
		p.y += m.size + m.line/4
		pct := fmt.Sprintf("%d%%", int(frac*100))
		if s.Progress.Text != "" {
			pct += "  " + menu.Sanitize(s.Progress.Text)
		}
		p.withIndent(m.size, func() { p.text(pct, colText) })
	}
	if s.Help != "" {
		p.bottom = b.Max.Y
		p.y = b.Max.Y - m.margin/2 - helpLines*m.line
		p.text(menu.Sanitize(s.Help), colDim)
	}
}

// painter draws lines of text down the screen.
type painter struct {
	r      *Renderer
	img    draw.Image
	m      metrics
	rtl    bool
	lang   string
	x0, x1 int // the text's left and right edges
	y      int // top of the next line
	bottom int // no line is drawn below this
}

func (p *painter) withIndent(n int, f func()) {
	x0, x1 := p.x0, p.x1
	p.x0, p.x1 = x0+n, x1-n
	f()
	p.x0, p.x1 = x0, x1
}

// text wraps a paragraph to the width and draws it.
func (p *painter) text(s string, col color.Color) {
	p.drawLines(p.lines(s, p.x1-p.x0), col)
}

func (p *painter) dir() di.Direction {
	if p.rtl {
		return di.DirectionRTL
	}
	return di.DirectionLTR
}

// lines shapes a paragraph and breaks it into lines of at most width pixels, each a
// list of runs in visual order (left to right).
func (p *painter) lines(s string, width int) []shaping.Line {
	runes := []rune(s)
	if len(runes) > maxRunes {
		runes = runes[:maxRunes]
	}
	if len(runes) == 0 {
		return []shaping.Line{nil}
	}
	in := shaping.Input{Text: runes, RunStart: 0, RunEnd: len(runes), Direction: p.dir(),
		Size: fixed.I(p.m.size), Language: language.NewLanguage(p.lang)}
	var inputs []shaping.Input
	if p.r.noShaping {
		inputs = shaping.SplitByFace(in, p.r)
		for i := range inputs {
			inputs[i].Direction = di.DirectionLTR
			inputs[i].Script = language.Latin
		}
	} else {
		inputs = p.r.seg.Split(in, p.r)
	}
	outs := make([]shaping.Output, len(inputs))
	for i, x := range inputs {
		if p.r.noShaping {
			outs[i] = unshaped(x)
		} else {
			outs[i] = p.r.shaper.Shape(x)
		}
	}
	cfg := shaping.WrapConfig{Direction: p.dir()}
	if p.r.noShaping {
		cfg.Direction = di.DirectionLTR
	}
	ls, _ := p.r.wrap.WrapParagraph(cfg, width, runes, shaping.NewSliceIterator(outs))
	out := make([]shaping.Line, len(ls))
	for i, l := range ls {
		l = append(shaping.Line(nil), l...)
		sort.SliceStable(l, func(a, b int) bool { return l[a].VisualIndex < l[b].VisualIndex })
		out[i] = l
	}
	return out
}

// unshaped lays out each rune's own glyph left to right: no joining, no reordering.
func unshaped(in shaping.Input) shaping.Output {
	o := shaping.Output{Size: in.Size, Face: in.Face, Direction: di.DirectionLTR,
		Runes: shaping.Range{Offset: in.RunStart, Count: in.RunEnd - in.RunStart}}
	scale := float32(in.Size) / float32(in.Face.Upem())
	for i := in.RunStart; i < in.RunEnd; i++ {
		gid, _ := in.Face.NominalGlyph(in.Text[i])
		adv := fixed.Int26_6(in.Face.HorizontalAdvance(gid) * scale)
		o.Glyphs = append(o.Glyphs, shaping.Glyph{GlyphID: gid, Advance: adv, XAdvance: adv, ClusterIndex: i, RuneCount: 1, GlyphCount: 1})
		o.Advance += adv
	}
	o.RecalculateAll()
	return o
}

// drawLines draws shaped lines, aligned to the right in a right-to-left screen.
func (p *painter) drawLines(ls []shaping.Line, col color.Color) {
	for _, l := range ls {
		if p.y+p.m.line > p.bottom {
			return
		}
		var w fixed.Int26_6
		for _, run := range l {
			w += run.Advance
		}
		x := fixed.I(p.x0)
		if p.rtl {
			x = fixed.I(p.x1) - w
		}
		baseline := p.y + p.m.line*7/10
		rect := image.Rect(p.x0-p.m.margin, p.y, p.x1+p.m.margin, p.y+p.m.line).Intersect(p.img.Bounds())
		z := vector.NewRasterizer(rect.Dx(), rect.Dy())
		any := false
		for _, run := range l {
			scale := float32(run.Size) / 64 / float32(run.Face.Upem())
			for _, g := range run.Glyphs {
				gx := float32(x+g.XOffset)/64 - float32(rect.Min.X)
				gy := float32(baseline-rect.Min.Y) - float32(g.YOffset)/64
				if outlineGlyph(z, run.Face, g.GlyphID, gx, gy, scale) {
					any = true
				}
				x += g.Advance
			}
		}
		if any {
			z.Draw(p.img, rect, image.NewUniform(col), image.Point{})
		}
		p.y += p.m.line
	}
}

// outlineGlyph adds a glyph's outline at (x, y) (the baseline's origin, in pixels).
func outlineGlyph(z *vector.Rasterizer, f *font.Face, gid font.GID, x, y, scale float32) bool {
	o, ok := f.GlyphDataOutline(gid)
	if !ok || len(o.Segments) == 0 {
		return false
	}
	px := func(pt font.SegmentPoint) (float32, float32) { return x + pt.X*scale, y - pt.Y*scale }
	for _, s := range o.Segments {
		switch s.Op {
		case ot.SegmentOpMoveTo:
			z.MoveTo(px(s.Args[0]))
		case ot.SegmentOpLineTo:
			z.LineTo(px(s.Args[0]))
		case ot.SegmentOpQuadTo:
			bx, by := px(s.Args[0])
			cx, cy := px(s.Args[1])
			z.QuadTo(bx, by, cx, cy)
		case ot.SegmentOpCubeTo:
			bx, by := px(s.Args[0])
			cx, cy := px(s.Args[1])
			dx, dy := px(s.Args[2])
			z.CubeTo(bx, by, cx, cy, dx, dy)
		}
	}
	z.ClosePath()
	return true
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r.Intersect(img.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

func outline(img draw.Image, r image.Rectangle, w int, c color.Color) {
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+w), c)
	fill(img, image.Rect(r.Min.X, r.Max.Y-w, r.Max.X, r.Max.Y), c)
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+w, r.Max.Y), c)
	fill(img, image.Rect(r.Max.X-w, r.Min.Y, r.Max.X, r.Max.Y), c)
}
