package ssss

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Share is one line of ssss: "[TOKEN-]INDEX-HEX". INDEX is the x coordinate in decimal,
// zero-padded by ssss-split to the width of the share count; HEX is the y coordinate,
// zero-padded to Bits/4 digits. The security level of a share set is the hex length * 4.
type Share struct {
	Token string // ssss-split -w TOKEN; "" without
	Index int    // 1..MaxShares
	Width int    // digits INDEX is written with (0: as few as needed)
	Value []byte // y, big-endian, Bits()/8 bytes
}

// Limits of what travelkit reads and writes. ssss 0.5 allows tokens of up to 128
// characters, security levels of up to 1024 bits, and any share count; travelkit stops at
// 255 shares.
const (
	MaxShares   = 255
	MaxTokenLen = 128
	maxIndexLen = 10
	maxLineLen  = MaxTokenLen + 1 + maxIndexLen + 1 + MaxBits/4
)

// Bits is the share's security level: the field degree.
func (s Share) Bits() int { return len(s.Value) * 8 }

// String formats the share as ssss-split prints it (lower-case hex), without a newline.
func (s Share) String() string {
	var b strings.Builder
	if s.Token != "" {
		b.WriteString(s.Token)
		b.WriteByte('-')
	}
	fmt.Fprintf(&b, "%0*d-%x", s.Width, s.Index, s.Value)
	return b.String()
}

// Wipe clears the share's value.
func (s Share) Wipe() { clear(s.Value) }

// ErrNotShare is wrapped by every ParseShare error. Messages never repeat the share's value.
var ErrNotShare = errors.New("not an ssss share")

func shareErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrNotShare, fmt.Sprintf(format, a...))
}

// ParseShare parses one share line as ssss-combine reads it: surrounding white space (the
// newline) is ignored; a token, when present, ends at the first '-'. It is strict where
// ssss is lenient: the index must be 1 to 255 in decimal digits, the hex part an even
// number of hex digits (8 to 1024 bits), the token printable ASCII.
func ParseShare(line string) (Share, error) {
	if len(line) > maxLineLen+64 {
		return Share{}, shareErr("line longer than %d characters", maxLineLen)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return Share{}, shareErr("empty line")
	}
	if len(line) > maxLineLen {
		return Share{}, shareErr("line longer than %d characters", maxLineLen)
	}
	parts := strings.Split(line, "-")
	var s Share
	switch len(parts) {
	case 2:
	case 3:
		s.Token = parts[0]
		parts = parts[1:]
		if s.Token == "" || len(s.Token) > MaxTokenLen {
			return Share{}, shareErr("the token before the first '-' must be 1 to %d characters", MaxTokenLen)
		}
		for i := 0; i < len(s.Token); i++ {
			if c := s.Token[i]; c <= ' ' || c >= 0x7f {
				return Share{}, shareErr("the token holds a character that is not printable ASCII")
			}
		}
	default:
		return Share{}, shareErr("want INDEX-HEX or TOKEN-INDEX-HEX")
	}
	idx, hexPart := parts[0], parts[1]
	if idx == "" || len(idx) > maxIndexLen || strings.Trim(idx, "0123456789") != "" {
		return Share{}, shareErr("the index must be a decimal number")
	}
	n, err := strconv.Atoi(idx)
	if err != nil || n < 1 || n > MaxShares {
		return Share{}, shareErr("index %s: must be 1 to %d", idx, MaxShares)
	}
	s.Index, s.Width = n, len(idx)
	if len(hexPart)%2 != 0 || !validBits(len(hexPart)*4) {
		return Share{}, shareErr("the value must be %d to %d hex digits, an even number (%d given)", MinBits/4, MaxBits/4, len(hexPart))
	}
	s.Value = make([]byte, len(hexPart)/2)
	for i := range s.Value {
		hi, ok1 := unhex(hexPart[2*i])
		lo, ok2 := unhex(hexPart[2*i+1])
		if !ok1 || !ok2 {
			s.Wipe()
			return Share{}, shareErr("the value holds a character that is not a hex digit")
		}
		s.Value[i] = hi<<4 | lo
	}
	return s, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ParseShares parses text holding one share per line; blank lines are skipped. At most
// MaxShares lines are read.
func ParseShares(text string) ([]Share, error) {
	var out []Share
	for n, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(out) == MaxShares {
			return nil, shareErr("more than %d shares", MaxShares)
		}
		s, err := ParseShare(line)
		if err != nil {
			for _, o := range out {
				o.Wipe()
			}
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, shareErr("no share found")
	}
	return out, nil
}
