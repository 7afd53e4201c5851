package remote

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// endless sends 16 MiB without a line end (then EOF, so that an unbounded reader fails
// the test instead of exhausting the machine).
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= 16<<20 {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestSumLineBounded: a server that sends a line without end makes readSumLine fail after
// maxSumLine bytes, not grow without bound (before, ReadString('\n') read until memory
// ran out).
func TestSumLineBounded(t *testing.T) {
	src := &endless{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readSumLine(bufio.NewReaderSize(src, 256))
	runtime.ReadMemStats(&after)
	if err == nil || src.n > 2*maxSumLine {
		t.Fatalf("read %d bytes of an endless line: %v", src.n, err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 64<<10 {
		t.Fatalf("an endless line allocated %d bytes", a)
	}
	r := bufio.NewReaderSize(strings.NewReader("tk-ready\r\ntk "+strings.Repeat("ab", 32)+"\ntk\n"+strings.Repeat("y", maxSumLine)+"\nrest"), 256)
	for _, want := range []string{"tk-ready", "tk " + strings.Repeat("ab", 32), "tk", strings.Repeat("y", maxSumLine)} {
		if got, err := readSumLine(r); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := readSumLine(r); err != io.EOF {
		t.Fatalf("a last line without its end: %v", err)
	}
	if sum, err := parseSumAnswer("tk " + strings.Repeat("ab", 32)); err != nil || sum[0] != 0xab || sum[31] != 0xab {
		t.Fatalf("answer: %x %v", sum, err)
	}
	if _, err := parseSumAnswer("tk"); !errors.Is(err, errNoHash) {
		t.Fatalf("tk alone: %v", err)
	}
	if _, err := parseSumAnswer("Welcome!"); err == nil || errors.Is(err, errNoHash) {
		t.Fatalf("a line that is not the protocol's: %v", err)
	}
}

func FuzzSumShellAnswer(f *testing.F) {
	f.Add([]byte("tk-ready\ntk " + strings.Repeat("0f", 32) + "\n"))
	f.Add([]byte("tk \ntk zz\r\n"))
	f.Add([]byte("Last login: yesterday\n" + strings.Repeat("x", 300) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 256)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for {
			line, err := readSumLine(r)
			if err != nil {
				break
			}
			if len(line) > maxSumLine {
				t.Fatalf("a line of %d bytes", len(line))
			}
			sum, err := parseSumAnswer(line)
			if err == nil && "tk "+hexString(sum[:]) != strings.ToLower(line) {
				t.Fatalf("%q read as %x", line, sum)
			}
			if err != nil && !errors.Is(err, errNoHash) && strings.ContainsAny(err.Error(), "\x00\x1b") {
				t.Fatalf("error carries control characters: %q", err)
			}
		}
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 64<<10+16*uint64(len(data)) {
			t.Fatalf("%d bytes allocated for %d bytes of answers", a, len(data))
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}
