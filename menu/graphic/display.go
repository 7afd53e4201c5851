package graphic

import (
	"image"
	"sync"
	"time"

	"travelkit/menu"
)

// Framebuffer is a screen of pixels (package bootenv's /dev/fb0).
type Framebuffer interface {
	Bounds() image.Rectangle
	// Put shows img (of the framebuffer's bounds) on the screen.
	Put(img *image.RGBA) error
}

// Display is a menu.Display that draws every screen on a framebuffer and hands it to
// another display too (the serial console's text). A framebuffer that fails is dropped:
// the other display goes on.
type Display struct {
	mu   sync.Mutex
	r    *Renderer
	fb   Framebuffer
	img  *image.RGBA
	next menu.Display
	err  error
	last time.Time // when a progress screen was last drawn
}

// progressEvery is how often a screen that only moves a progress bar is drawn: drawing a
// whole frame costs far more than a line of text on a slow or emulated computer, and
// would slow the work it reports.
const progressEvery = 2 * time.Second

// NewDisplay draws with r on fb; next (may be nil) gets every screen too.
func NewDisplay(r *Renderer, fb Framebuffer, next menu.Display) *Display {
	return &Display{r: r, fb: fb, img: image.NewRGBA(fb.Bounds()), next: next}
}

// DrawsArabic tells package menu that this display joins Arabic letters and writes right
// to left: the menu may speak Arabic and Persian.
func (d *Display) DrawsArabic() bool { return d.r.DrawsArabic() }

// Show draws s.
func (d *Display) Show(s *menu.Screen) {
	d.mu.Lock()
	skip := s.Progress != nil && s.Progress.Done < s.Progress.Total && time.Since(d.last) < progressEvery
	if d.err == nil && !skip {
		d.r.Draw(d.img, s)
		d.err = d.fb.Put(d.img)
		if s.Progress != nil {
			d.last = time.Now()
		}
	}
	d.mu.Unlock()
	if d.next != nil {
		d.next.Show(s)
	}
}

// Err is the framebuffer's first error, if any.
func (d *Display) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}
