package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"travelkit/internal/bytesize"
)

// progress draws a one-line progress bar (or a spinner when the total is unknown) on
// standard error. It stays quiet when standard error is not a terminal, and shows
// nothing for work that finishes within a second.
type progress struct {
	w       io.Writer
	label   string
	total   int64
	done    atomic.Int64
	start   time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	drawn   bool
	enabled bool
}

// progressDelay is how long work runs before the bar appears.
const progressDelay = time.Second

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// newProgress starts a progress display. total <= 0 shows a spinner with the elapsed time.
func newProgress(label string, total int64) *progress {
	p := &progress{w: os.Stderr, label: label, total: total, start: time.Now(), stop: make(chan struct{}),
		enabled: stderrIsTerminal()}
	if p.enabled {
		p.wg.Add(1)
		go p.loop()
	}
	return p
}

// Add records n more units of work done.
func (p *progress) Add(n int64) { p.done.Add(n) }

// Done stops the display and clears its line.
func (p *progress) Done() {
	if !p.enabled {
		return
	}
	close(p.stop)
	p.wg.Wait()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	spin := 0
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		el := time.Since(p.start)
		if el < progressDelay {
			continue
		}
		p.drawn = true
		fmt.Fprint(p.w, "\r\033[K"+p.line(el, spin))
		spin++
	}
}

func (p *progress) line(el time.Duration, spin int) string {
	secs := el.Truncate(time.Second)
	if p.total <= 0 {
		if d := p.done.Load(); d > 0 {
			return fmt.Sprintf("%s %c %v, %s", p.label, `|/-\`[spin%4], secs, tr.T("cli.progress.at", bytesize.Format(d), bytesize.Format(int64(float64(d)/el.Seconds()))))
		}
		return fmt.Sprintf("%s %c %v", p.label, `|/-\`[spin%4], secs)
	}
	d := min(p.done.Load(), p.total)
	frac := float64(d) / float64(p.total)
	const width = 30
	n := int(frac * width)
	rate := float64(d) / el.Seconds()
	eta := ""
	if rate > 0 && d < p.total {
		eta = ", " + tr.T("cli.progress.left", (time.Duration(float64(p.total-d)/rate*float64(time.Second))).Truncate(time.Second).String())
	}
	return fmt.Sprintf("%s [%s%s] %3.0f%% %s/%s %s/s%s", p.label, strings.Repeat("#", n), strings.Repeat(".", width-n),
		frac*100, bytesize.Format(d), bytesize.Format(p.total), bytesize.Format(int64(rate)), eta)
}

// runWithNote runs f while showing note (e.g. "Calibrating argon2id for 2s") with a spinner on a terminal.
func runWithNote(note string, f func() error) error {
	if note == "" {
		return f()
	}
	if stderrIsTerminal() {
		fmt.Fprintln(os.Stderr, note+"...")
	}
	p := newProgress(note, 0)
	defer p.Done()
	return f()
}

// progressReader counts what is read through it on a progress display.
type progressReader struct {
	r io.Reader
	p *progress
}

func (pr progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.Add(int64(n))
	return n, err
}
