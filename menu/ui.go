package menu

import (
	"context"
	"time"
	"unicode/utf8"

	"travelkit/i18n"
)

// ui draws screens with the current title and status and reads answers.
type ui struct {
	d      Display
	k      *Keys
	title  string
	status string
	p      *i18n.Printer // the menu's language
	// poll, when set, is called about every pollEvery while a choice waits for a key;
	// returning true ends the wait (a kit was plugged in).
	poll func() bool
}

const pollEvery = 2 * time.Second

// T is the message key in the menu's language.
func (u *ui) T(key string, args ...any) string { return u.p.T(key, args...) }

func (u *ui) show(s *Screen) {
	s.Title, s.Status = u.title, u.status
	s.RTL, s.Lang = u.p.Dir() == "rtl", u.p.Lang()
	u.d.Show(s)
}

// choose shows items and returns the index chosen (Enter, or the item's digit), or -1
// for Esc. With u.poll set, -2 is returned when poll says so.
func (u *ui) choose(ctx context.Context, body []string, items []string, sel int) (int, error) {
	s := &Screen{Body: body, Items: items, Selected: sel, Help: u.T("menu.help.choose")}
	for {
		if s.Selected >= len(items) {
			s.Selected = 0
		}
		u.show(s)
		wait := time.Duration(0)
		if u.poll != nil {
			wait = pollEvery
		}
		k, err := u.k.Read(ctx, wait)
		if err != nil {
			return -1, err
		}
		switch k.Kind {
		case KeyTimeout:
			if u.poll() {
				return -2, nil
			}
		case KeyUp:
			s.Selected = (s.Selected + len(items) - 1) % len(items)
		case KeyDown:
			s.Selected = (s.Selected + 1) % len(items)
		case KeyEnter:
			return s.Selected, nil
		case KeyEsc:
			return -1, nil
		case KeyRune:
			if k.Rune >= '1' && k.Rune <= '9' && int(k.Rune-'1') < len(items) {
				return int(k.Rune - '1'), nil
			}
		}
	}
}

// checklist lets the person tick items (Space or the digit), and returns the ticks on
// Enter, or ok=false on Esc.
func (u *ui) checklist(ctx context.Context, body []string, items []string, ticks []bool) ([]bool, bool, error) {
	s := &Screen{Body: body, Items: items, Checked: append([]bool(nil), ticks...), Help: u.T("menu.help.checklist")}
	for {
		u.show(s)
		k, err := u.k.Read(ctx, 0)
		if err != nil {
			return nil, false, err
		}
		switch k.Kind {
		case KeyUp:
			s.Selected = (s.Selected + len(items) - 1) % len(items)
		case KeyDown:
			s.Selected = (s.Selected + 1) % len(items)
		case KeySpace:
			s.Checked[s.Selected] = !s.Checked[s.Selected]
		case KeyEnter:
			return s.Checked, true, nil
		case KeyEsc:
			return nil, false, nil
		case KeyRune:
			if k.Rune >= '1' && k.Rune <= '9' && int(k.Rune-'1') < len(items) {
				s.Selected = int(k.Rune - '1')
				s.Checked[s.Selected] = !s.Checked[s.Selected]
			}
		}
	}
}

// input reads a line. A secret is shown as one "*" a character and returned as bytes the
// caller clears; ok is false on Esc.
func (u *ui) input(ctx context.Context, body []string, secret bool) (line []byte, ok bool, err error) {
	var buf []byte
	s := &Screen{Body: body, HasInput: true, Help: u.T("menu.help.input")}
	defer func() {
		if !ok {
			clear(buf)
		}
	}()
	for {
		n := utf8.RuneCount(buf)
		if secret {
			s.Input = ""
			for i := 0; i < n; i++ {
				s.Input += "*"
			}
		} else {
			s.Input = Sanitize(string(buf))
		}
		u.show(s)
		k, err := u.k.Read(ctx, 0)
		if err != nil {
			return nil, false, err
		}
		switch k.Kind {
		case KeyEnter:
			return buf, true, nil
		case KeyEsc:
			return nil, false, nil
		case KeyBackspace:
			if len(buf) > 0 {
				_, size := utf8.DecodeLastRune(buf)
				clear(buf[len(buf)-size:])
				buf = buf[:len(buf)-size]
			}
		case KeySpace:
			buf = grow(buf, " ")
		case KeyRune:
			buf = grow(buf, string(k.Rune))
		}
	}
}

// grow appends s without leaving a copy of the secret behind in a dropped array.
func grow(buf []byte, s string) []byte {
	if len(buf)+len(s) > cap(buf) {
		nb := make([]byte, len(buf), 2*cap(buf)+len(s)+16)
		copy(nb, buf)
		clear(buf)
		buf = nb
	}
	return append(buf, s...)
}

// message shows body until Enter or Esc.
func (u *ui) message(ctx context.Context, body []string) error {
	_, err := u.choose(ctx, body, []string{u.T("menu.continue")}, 0)
	return err
}

// progress shows a progress screen (no key is read).
func (u *ui) progress(body []string, done, total int64, text string) {
	u.show(&Screen{Body: body, Progress: &Bar{Done: done, Total: total, Text: text}})
}
