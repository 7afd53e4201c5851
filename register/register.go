package register

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"travelkit/kit"
)

// Kinds of event.
const (
	Build          = "build"
	Passphrase     = "passphrase"      // keys passphrase
	RotateRecovery = "rotate-recovery" // keys rotate-recovery
	Escrow         = "escrow"          // keys escrow
	Refresh        = "refresh"
	HeaderRestore  = "header-restore"
	Erase          = "erase"
)

// Event is one line of the register.
type Event struct {
	Event    string    `json:"event"`
	Date     time.Time `json:"date"`   // when it happened, UTC
	KitID    string    `json:"kit_id"` // the manifest's kit_id
	Name     string    `json:"name"`   // the kit's name (its LUKS2 label)
	Version  string    `json:"travelkit_version"`
	LUKSUUID string    `json:"luks_uuid"`
	// Escrow names the colleagues holding escrow files; Threshold of them are needed
	// (1: each holds the whole recovery key).
	Escrow    []string `json:"escrow"`
	Threshold int      `json:"escrow_threshold"`
	// RecoveryKeyRotated is when the recovery key in use was made.
	RecoveryKeyRotated time.Time `json:"recovery_key_rotated,omitzero"`
	// ToolsWritten is when the kit's tools partition was last written.
	ToolsWritten time.Time `json:"tools_written,omitzero"`
	// By is the version of travelkit that recorded the event (Version is the kit's tools).
	By string `json:"recorded_by,omitempty"`
}

// FromManifest makes the event for a kit described by its manifest (after the change).
func FromManifest(event string, m *kit.Manifest, label, by string, now time.Time) Event {
	e := Event{
		Event: event, Date: now.UTC().Truncate(time.Second), KitID: m.KitID, Name: label,
		Version: m.Version, LUKSUUID: m.LUKSUUID, Threshold: m.Threshold(), By: by,
		RecoveryKeyRotated: m.RecoveryKeyRotated, ToolsWritten: m.ToolsWritten,
		Escrow: []string{},
	}
	if e.Name == "" {
		e.Name = m.KitID
	}
	if e.RecoveryKeyRotated.IsZero() && hasRecoveryKey(m) {
		e.RecoveryKeyRotated = m.Created
	}
	if e.ToolsWritten.IsZero() {
		e.ToolsWritten = m.Created
	}
	for _, x := range m.Escrow {
		e.Escrow = append(e.Escrow, x.Name)
	}
	return e
}

func hasRecoveryKey(m *kit.Manifest) bool {
	return slices.ContainsFunc(m.Keyslots, func(k kit.Keyslot) bool { return k.Kind == kit.KeyslotRecoveryKey })
}

// Limits of what Parse reads: a register is the helpline's own file, but it may be
// damaged, and a hostile one must not exhaust memory.
const (
	maxLineLen   = 64 << 10
	maxEvents    = 1 << 20
	maxEscrow    = 255
	maxFieldLen  = 256
	maxFileBytes = 1 << 30
	// maxProblems bounds the skipped lines listed one by one: a file of a billion
	// short lines that are not events would otherwise list each (tens of GB).
	maxProblems = 1000
)

// Append adds one event to the register at path (created when absent) with a single
// write, then syncs it. A crash leaves at most an incomplete last line, which Parse
// reports and skips.
func Append(path string, e Event) error {
	if err := e.check(); err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("register %s: %w", path, err)
	}
	// A previous crash may have left a line without its newline: start on a new line.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(path); err == nil {
			if _, err := r.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				b = append([]byte{'\n'}, b...)
			}
			r.Close()
		}
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("register %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("register %s: %w", path, err)
	}
	return f.Close()
}

func (e *Event) check() error {
	switch {
	case e.Event == "" || len(e.Event) > maxFieldLen:
		return errors.New("no event kind")
	case e.Date.IsZero():
		return errors.New("no date")
	case e.KitID == "" || len(e.KitID) > maxFieldLen:
		return errors.New("no kit_id")
	case len(e.Name) > maxFieldLen || len(e.Version) > maxFieldLen || len(e.LUKSUUID) > maxFieldLen || len(e.By) > maxFieldLen:
		return errors.New("a field is too long")
	case len(e.Escrow) > maxEscrow:
		return fmt.Errorf("%d escrow names: at most %d", len(e.Escrow), maxEscrow)
	case e.Threshold < 0 || e.Threshold > maxEscrow:
		return fmt.Errorf("escrow threshold %d", e.Threshold)
	}
	for _, n := range e.Escrow {
		if len(n) > maxFieldLen {
			return errors.New("an escrow name is too long")
		}
	}
	return nil
}

// LineError is a line Parse could not read (skipped).
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Parse reads a register. Lines that are not events (a line cut short by a crash, a
// hand edit gone wrong) are skipped and returned as problems; blank lines are ignored.
// Unknown fields are ignored, so that older travelkits read newer registers.
func Parse(r io.Reader) (events []Event, problems []LineError, err error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxFileBytes+1), 64<<10)
	var read int64
	firstUnlisted, unlisted := 0, 0
	problem := func(p LineError) {
		if len(problems) < maxProblems {
			problems = append(problems, p)
			return
		}
		if unlisted++; unlisted == 1 {
			firstUnlisted = p.Line
		}
	}
	defer func() {
		if unlisted > 0 && err == nil {
			problems = append(problems, LineError{firstUnlisted, fmt.Errorf("this and %d more lines that are not events (not listed one by one)", unlisted-1)})
		}
	}()
	for n := 1; ; n++ {
		line, tooLong, rerr := readLine(br)
		read += int64(len(line)) + 1
		if read > maxFileBytes {
			return nil, nil, fmt.Errorf("the register is larger than %d bytes", int64(maxFileBytes))
		}
		if n == 1 {
			// the UTF-8 byte order mark an editor may put first (Notepad before Windows
			// 10 1903 did when saving as UTF-8): the first event is still read
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if tooLong {
			problem(LineError{n, fmt.Errorf("longer than %d bytes", maxLineLen)})
		} else if len(bytes.TrimSpace(line)) > 0 {
			var e Event
			if perr := json.Unmarshal(line, &e); perr != nil {
				problem(LineError{n, errors.New("not a register event (cut short, or edited?)")})
			} else if cerr := e.check(); cerr != nil {
				problem(LineError{n, cerr})
			} else {
				if len(events) == maxEvents {
					return nil, nil, fmt.Errorf("more than %d events", maxEvents)
				}
				events = append(events, e)
			}
		}
		if rerr == io.EOF {
			return events, problems, nil
		}
		if rerr != nil {
			return nil, nil, rerr
		}
	}
}

// readLine reads one line without its newline, discarding the rest of a line longer than
// maxLineLen.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(line)+len(chunk) > maxLineLen {
			tooLong = true
			line = line[:0]
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if err != nil || !isPrefix {
			return line, tooLong, err
		}
	}
}

// ReadFile parses the register at path.
func ReadFile(path string) ([]Event, []LineError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Parse(f)
}

// ParsePeriod reads a renewal period: a whole number and a unit, d (days), w (weeks),
// mo (months) or y (years): "90d", "12mo", "2y".
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n <= 0 || n > 1000 {
		return Period{}, fmt.Errorf("period %q: want a number from 1 to 1000 and a unit (d, w, mo, y), as 12mo", s)
	}
	switch s[i:] {
	case "d":
		return Period{Days: n}, nil
	case "w":
		return Period{Days: 7 * n}, nil
	case "mo":
		return Period{Months: n}, nil
	case "y":
		return Period{Months: 12 * n}, nil
	}
	return Period{}, fmt.Errorf("period %q: the unit must be d, w, mo or y (as 12mo)", s)
}

// Period is a calendar period.
type Period struct{ Months, Days int }

// Before returns t moved back by the period.
func (p Period) Before(t time.Time) time.Time { return t.AddDate(0, -p.Months, -p.Days) }

func (p Period) String() string {
	switch {
	case p.Months%12 == 0 && p.Months > 0 && p.Days == 0:
		return fmt.Sprintf("%dy", p.Months/12)
	case p.Months > 0 && p.Days == 0:
		return fmt.Sprintf("%dmo", p.Months)
	case p.Days%7 == 0 && p.Months == 0:
		return fmt.Sprintf("%dw", p.Days/7)
	}
	return fmt.Sprintf("%dd", p.Days+30*p.Months)
}
