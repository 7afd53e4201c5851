package menu

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

// KeyKind names a key.
type KeyKind int

// Keys the menu understands.
const (
	KeyRune KeyKind = iota
	KeyEnter
	KeyEsc
	KeyUp
	KeyDown
	KeyLeft
	KeyRight
	KeyBackspace
	KeySpace
	KeyTimeout // no key within the wait asked for
)

// Key is one key press; Rune is set for KeyRune.
type Key struct {
	Kind KeyKind
	Rune rune
}

// ErrNoInput says every input has ended.
var ErrNoInput = errors.New("no keyboard input left")

// escWait is how long a lone Esc waits for the rest of an escape sequence. A terminal sends
// a sequence in one burst; a serial line at 115200 baud takes under a millisecond a byte.
const escWait = 60 * time.Millisecond

// Keys merges the key presses of several inputs (the screen's keyboard and the serial
// console). Each input is decoded on its own, so that escape sequences never mix.
type Keys struct {
	ch   chan Key
	mu   sync.Mutex
	live int
}

// NewKeys starts reading every input.
func NewKeys(inputs ...io.Reader) *Keys {
	k := &Keys{ch: make(chan Key, 64), live: len(inputs)}
	for _, in := range inputs {
		go k.read(in)
	}
	if len(inputs) == 0 {
		close(k.ch)
	}
	return k
}

func (k *Keys) read(in io.Reader) {
	bytes := make(chan byte, 256)
	go func() {
		defer close(bytes)
		buf := make([]byte, 256)
		for {
			n, err := in.Read(buf)
			for _, b := range buf[:n] {
				bytes <- b
			}
			if err != nil {
				return
			}
		}
	}()
	decode(bytes, k.ch)
	k.mu.Lock()
	k.live--
	if k.live == 0 {
		close(k.ch)
	}
	k.mu.Unlock()
}

// decode turns bytes into keys: CSI and SS3 arrow sequences, Enter (CR or LF, a CR LF
// pair counting once), Backspace (DEL or BS), Space, Esc alone, and UTF-8 runes.
func decode(in <-chan byte, out chan<- Key) {
	next := func(wait time.Duration) (byte, bool) {
		if wait == 0 {
			b, ok := <-in
			return b, ok
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case b, ok := <-in:
			return b, ok
		case <-t.C:
			return 0, false
		}
	}
	lastCR := false
	for {
		b, ok := next(0)
		if !ok {
			return
		}
		wasCR := lastCR
		lastCR = false
		switch {
		case b == '\r':
			lastCR = true
			out <- Key{Kind: KeyEnter}
		case b == '\n':
			if !wasCR {
				out <- Key{Kind: KeyEnter}
			}
		case b == 0x7f || b == 0x08:
			out <- Key{Kind: KeyBackspace}
		case b == ' ':
			out <- Key{Kind: KeySpace}
		case b == 0x1b:
			c, ok := next(escWait)
			if !ok {
				out <- Key{Kind: KeyEsc}
				continue
			}
			if c != '[' && c != 'O' {
				out <- Key{Kind: KeyEsc}
				continue
			}
			// CSI: parameters, then a final byte in 0x40..0x7e.
			var final byte
			for i := 0; i < 16; i++ {
				d, ok := next(escWait)
				if !ok {
					break
				}
				if d >= 0x40 && d <= 0x7e {
					final = d
					break
				}
			}
			switch final {
			case 'A':
				out <- Key{Kind: KeyUp}
			case 'B':
				out <- Key{Kind: KeyDown}
			case 'C':
				out <- Key{Kind: KeyRight}
			case 'D':
				out <- Key{Kind: KeyLeft}
			}
		case b < 0x20:
			// other control characters: ignored
		case b < 0x80:
			out <- Key{Kind: KeyRune, Rune: rune(b)}
		default:
			buf := []byte{b}
			for len(buf) < utf8.UTFMax && !utf8.FullRune(buf) {
				c, ok := next(escWait)
				if !ok {
					break
				}
				buf = append(buf, c)
			}
			if r, _ := utf8.DecodeRune(buf); r != utf8.RuneError {
				out <- Key{Kind: KeyRune, Rune: r}
			}
		}
	}
}

// Read waits for the next key. With wait > 0 it returns a KeyTimeout key after that long.
func (k *Keys) Read(ctx context.Context, wait time.Duration) (Key, error) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case key, ok := <-k.ch:
		if !ok {
			return Key{}, ErrNoInput
		}
		return key, nil
	case <-timeout:
		return Key{Kind: KeyTimeout}, nil
	case <-ctx.Done():
		return Key{}, ctx.Err()
	}
}
