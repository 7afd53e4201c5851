package menu

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"travelkit/internal/termsafe"
)

// Screen is one full screen of the menu.
type Screen struct {
	Title    string   // top line: the kit and where we are
	Status   string   // second line: Secure Boot state, language note
	Body     []string // paragraphs, wrapped to the width
	Items    []string // choices, numbered from 1
	Checked  []bool   // with Items: a checklist ([x] / [ ])
	Selected int      // index into Items
	Input    string   // an input field's shown text (masked for secrets)
	HasInput bool
	Progress *Bar
	Help     string // bottom line: the keys
	// RTL: the menu's language is written right to left (Arabic, Persian). A display
	// that draws such text aligns the screen to the right; the text console ignores it.
	RTL bool
	// Lang is the menu's language (i18n: en, ar, fa...), for shaping.
	Lang string
}

// Bar is a progress bar.
type Bar struct {
	Done, Total int64
	Text        string
}

// Display shows screens. TextDisplay writes ANSI text; a display for scripts the text
// console cannot draw (Arabic, Persian) can take the screen's place: it says so with a
// method DrawsArabic() bool (package menu/graphic draws on a framebuffer).
type Display interface {
	Show(s *Screen)
}

// Width is the text width of a screen (80-column consoles, serial terminals).
const Width = 78

// TextDisplay writes every screen, cleared and redrawn, to each of its writers (the
// screen's console and the serial console). A writer that fails is dropped.
type TextDisplay struct {
	mu  sync.Mutex
	out []io.Writer
}

// NewTextDisplay writes to outs.
func NewTextDisplay(outs ...io.Writer) *TextDisplay { return &TextDisplay{out: outs} }

// Show draws s.
func (d *TextDisplay) Show(s *Screen) {
	text := Render(s)
	d.mu.Lock()
	defer d.mu.Unlock()
	live := d.out[:0]
	for _, w := range d.out {
		if _, err := io.WriteString(w, text); err == nil {
			live = append(live, w)
		}
	}
	d.out = live
}

// Render returns the ANSI text of a screen: clear, home, then lines ending in CR LF (raw
// terminals do not add the CR). The selected item is shown in reverse video and marked
// with ">" for terminals without attributes.
func Render(s *Screen) string {
	var b strings.Builder
	b.WriteString("\x1b[0m\x1b[H\x1b[2J")
	line := func(t string) { b.WriteString(t); b.WriteString("\r\n") }
	line("\x1b[1m" + clip(Sanitize(s.Title)) + "\x1b[0m")
	if s.Status != "" {
		for _, l := range strings.Split(s.Status, "\n") {
			line(clip(Sanitize(l)))
		}
	}
	line(strings.Repeat("─", Width))
	for _, p := range s.Body {
		if p == "" {
			line("")
			continue
		}
		for _, l := range wrap(Sanitize(p), Width) {
			line(l)
		}
	}
	if len(s.Items) > 0 {
		line("")
	}
	for i, it := range s.Items {
		mark := "  "
		if s.Checked != nil {
			if i < len(s.Checked) && s.Checked[i] {
				mark = "[x] "
			} else {
				mark = "[ ] "
			}
		}
		text := clip(fmt.Sprintf("%2d. %s%s", i+1, mark, Sanitize(it)))
		if i == s.Selected {
			line(" > \x1b[7m" + text + "\x1b[0m")
		} else {
			line("   " + text)
		}
	}
	if s.HasInput {
		line("")
		line("   [ " + s.Input + "_ ]")
	}
	if s.Progress != nil {
		line("")
		line("   " + bar(s.Progress, Width-10))
		if s.Progress.Text != "" {
			line("   " + clip(Sanitize(s.Progress.Text)))
		}
	}
	if s.Help != "" {
		line("")
		line("\x1b[2m" + clip(Sanitize(s.Help)) + "\x1b[0m")
	}
	return b.String()
}

func bar(p *Bar, width int) string {
	frac := 0.0
	if p.Total > 0 {
		frac = float64(p.Done) / float64(p.Total)
	}
	frac = min(max(frac, 0), 1)
	n := int(frac * float64(width))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + fmt.Sprintf("] %3d%%", int(frac*100))
}

// Sanitize makes text from a drive or a repository safe to print on a terminal: control
// characters (escape sequences, bidirectional overrides) and invalid UTF-8 are shown
// escaped, as everywhere in travelkit (package termsafe); tabs become spaces. The zero
// width non-joiner and joiner (U+200C, U+200D) are kept: Persian writes every day with
// them ("می‌خواهید"), they move nothing and control no terminal. Names from a drive are
// escaped whole by termsafe.Name where they enter a message, so theirs are shown.
func Sanitize(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\u200c' || r == '\u200d' })
	if len(parts) == 1 && parts[0] == s {
		return strings.ReplaceAll(termsafe.Text(s), "\t", " ")
	}
	var b strings.Builder
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		b.WriteString(rest[:i]) // the joiners before p, as they are
		b.WriteString(strings.ReplaceAll(termsafe.Text(p), "\t", " "))
		rest = rest[i+len(p):]
	}
	b.WriteString(rest)
	return b.String()
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= Width {
		return s
	}
	r := []rune(s)
	return string(r[:Width-1]) + "…"
}

// wrap breaks text into lines of at most width runes, at spaces where it can.
func wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		cur := ""
		for _, w := range words {
			for utf8.RuneCountInString(w) > width {
				r := []rune(w)
				if cur != "" {
					out = append(out, cur)
					cur = ""
				}
				out = append(out, string(r[:width]))
				w = string(r[width:])
			}
			switch {
			case cur == "":
				cur = w
			case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= width:
				cur += " " + w
			default:
				out = append(out, cur)
				cur = w
			}
		}
		out = append(out, cur)
	}
	return out
}
