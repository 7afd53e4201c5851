package repo

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// An index file is decoded as a stream: every entry is handed over as soon as its pack
// is read, and nothing but one short token is held. encoding/json would keep the whole
// plaintext and several copies of it (a crafted 96 KB index file decompresses to 1 GiB
// of JSON). The grammar is restic's index format:
//
//	{"supersedes": [ID...], "packs": [{"id": ID, "blobs": [{"id": ID, "type": "data"|"tree",
//	  "offset": N, "length": N, "uncompressed_length": N}...]}...]}
//
// or, as restic before 0.8 wrote it, the bare array of packs. Keys match case-insensitively
// and unknown keys are skipped, as encoding/json does.

// Bounds of the index decoder, each against a crafted file.
const (
	// maxIndexEntriesPerFile bounds the entries of one index file; restic writes at most
	// 150,000 (50,000 uncompressed).
	maxIndexEntriesPerFile = 500_000
	// maxJSONToken bounds a string or number token (IDs are 64 characters).
	maxJSONToken = 4096
	// maxJSONDepth bounds the nesting of a skipped value.
	maxJSONDepth = 256
)

var errIndexEntries = fmt.Errorf("more than %d entries in one index file (restic writes at most 150000): %w", maxIndexEntriesPerFile, ErrTooLarge)

type jsonScanner struct {
	r   *bufio.Reader
	tok []byte
}

func (s *jsonScanner) readByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == io.EOF {
		return 0, io.ErrUnexpectedEOF
	}
	return c, err
}

// next returns the next byte that is not white space.
func (s *jsonScanner) next() (byte, error) {
	for {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// peek returns the next byte that is not white space, leaving it unread.
func (s *jsonScanner) peek() (byte, error) {
	c, err := s.next()
	if err == nil {
		err = s.r.UnreadByte()
	}
	return c, err
}

func (s *jsonScanner) expect(want byte) error {
	c, err := s.next()
	if err != nil {
		return err
	}
	if c != want {
		return fmt.Errorf("%q where %q was expected", c, want)
	}
	return nil
}

// str reads a string whose opening quote was read; keep says whether to keep its
// content (up to maxJSONToken bytes) or only to skip it, whatever its length.
func (s *jsonScanner) str(keep bool) ([]byte, error) {
	s.tok = s.tok[:0]
	// the common case, the whole rest of the string in the buffer without an
	// escape or a control character, is taken in one step (not byte by byte)
	if buf, _ := s.r.Peek(s.r.Buffered()); len(buf) > 0 {
		if i := bytes.IndexByte(buf, '"'); i >= 0 && (!keep || i <= maxJSONToken) && plainJSON(buf[:i]) {
			if keep {
				s.tok = append(s.tok, buf[:i]...)
			}
			_, err := s.r.Discard(i + 1)
			return s.tok, err
		}
	}
	for {
		c, err := s.readByte()
		if err != nil {
			return nil, err
		}
		switch {
		case c == '"':
			return s.tok, nil
		case c == '\\':
			e, err := s.readByte()
			if err != nil {
				return nil, err
			}
			switch e {
			case '"', '\\', '/':
				c = e
			case 'b', 'f', 'n', 'r', 't':
				c = map[byte]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[e]
			case 'u':
				// kept only as a marker: no key or value of the index needs \u escapes
				for i := 0; i < 4; i++ {
					h, err := s.readByte()
					if err != nil {
						return nil, err
					}
					if !isHex(h) {
						return nil, errors.New(`invalid \u escape`)
					}
				}
				c = 0
			default:
				return nil, fmt.Errorf("invalid escape \\%c", e)
			}
		case c < 0x20:
			return nil, errors.New("control character in a string")
		}
		if keep {
			if len(s.tok) >= maxJSONToken {
				return nil, fmt.Errorf("a string longer than %d bytes: %w", maxJSONToken, ErrTooLarge)
			}
			s.tok = append(s.tok, c)
		}
	}
}

// plainJSON reports whether b holds no escape and no control character.
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// literal reads the rest of true, false or null after its first byte.
func (s *jsonScanner) literal(first byte) error {
	word := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[first]
	if word == "" {
		return fmt.Errorf("unexpected %q", first)
	}
	for i := 1; i < len(word); i++ {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c != word[i] {
			return fmt.Errorf("invalid literal")
		}
	}
	return nil
}

// number reads a number whose first byte is first; it returns its text.
func (s *jsonScanner) number(first byte) ([]byte, error) {
	s.tok = append(s.tok[:0], first)
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			if err := s.r.UnreadByte(); err != nil {
				return nil, err
			}
			break
		}
		if len(s.tok) >= 64 {
			return nil, fmt.Errorf("a number longer than 64 bytes: %w", ErrTooLarge)
		}
		s.tok = append(s.tok, c)
	}
	return s.tok, nil
}

// skip reads and drops one value, whatever its size, holding nothing but a depth.
func (s *jsonScanner) skip() error {
	depth := 0
	for {
		c, err := s.next()
		if err != nil {
			return err
		}
		switch {
		case c == '{' || c == '[':
			if depth++; depth > maxJSONDepth {
				return fmt.Errorf("values nested more than %d deep: %w", maxJSONDepth, ErrTooLarge)
			}
			continue
		case c == '}' || c == ']':
			depth--
		case c == ',' || c == ':':
			continue
		case c == '"':
			if _, err := s.str(false); err != nil {
				return err
			}
		case c == '-' || c >= '0' && c <= '9':
			if _, err := s.number(c); err != nil {
				return err
			}
		default:
			if err := s.literal(c); err != nil {
				return err
			}
		}
		if depth <= 0 {
			if depth < 0 {
				return errors.New("unbalanced brackets")
			}
			return nil
		}
	}
}

// isNull consumes a null if one comes next.
func (s *jsonScanner) isNull() (bool, error) {
	c, err := s.peek()
	if err != nil || c != 'n' {
		return false, err
	}
	s.r.ReadByte()
	return true, s.literal('n')
}

// object reads an object (or null), calling fn with each key; fn reads the value.
func (s *jsonScanner) object(fn func(key string) error) error {
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expect('{'); err != nil {
		return err
	}
	c, err := s.next()
	if err != nil || c == '}' {
		return err
	}
	for {
		if c != '"' {
			return fmt.Errorf("%q where a key was expected", c)
		}
		k, err := s.str(true)
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(indexKey(k)); err != nil {
			return err
		}
		if c, err = s.next(); err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if c != ',' {
			return fmt.Errorf("%q after a value in an object", c)
		}
		if c, err = s.next(); err != nil {
			return err
		}
	}
}

// indexKey returns key in lower case, the keys of the format without a new
// string.
func indexKey(k []byte) string {
	switch string(k) {
	case "id":
		return "id"
	case "type":
		return "type"
	case "offset":
		return "offset"
	case "length":
		return "length"
	case "uncompressed_length":
		return "uncompressed_length"
	case "blobs":
		return "blobs"
	case "packs":
		return "packs"
	case "supersedes":
		return "supersedes"
	}
	return strings.ToLower(string(k))
}

// array reads an array (or null), calling fn for each element; fn reads it.
func (s *jsonScanner) array(fn func() error) error {
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expect('['); err != nil {
		return err
	}
	if c, err := s.peek(); err != nil || c == ']' {
		if err == nil {
			s.r.ReadByte()
		}
		return err
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		c, err := s.next()
		if err != nil {
			return err
		}
		if c == ']' {
			return nil
		}
		if c != ',' {
			return fmt.Errorf("%q after a value in an array", c)
		}
	}
}

func (s *jsonScanner) id() (ID, error) {
	var id ID
	if err := s.expect('"'); err != nil {
		return id, err
	}
	b, err := s.str(true)
	if err != nil {
		return id, err
	}
	if len(b) != 64 {
		return id, fmt.Errorf("invalid ID %q", b)
	}
	if _, err := hex.Decode(id[:], b); err != nil {
		return id, fmt.Errorf("invalid ID %q", b)
	}
	return id, nil
}

func (s *jsonScanner) uint32() (uint32, error) {
	c, err := s.next()
	if err != nil {
		return 0, err
	}
	if c == 'n' {
		return 0, s.literal(c)
	}
	if c < '0' || c > '9' {
		return 0, fmt.Errorf("%q where a number was expected", c)
	}
	b, err := s.number(c)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("invalid number %q", b)
		}
		if v = v*10 + uint64(d-'0'); v > 1<<32-1 {
			return 0, fmt.Errorf("number %s out of range", b)
		}
	}
	return uint32(v), nil
}

// DecodeIndexStream reads an index file's plaintext from r and calls add for every
// entry, holding no more than one pack's entries; it returns the superseded index files.
func DecodeIndexStream(r io.Reader, add func(PackedBlob) error) (supersedes []ID, err error) {
	s := &jsonScanner{r: bufio.NewReaderSize(r, 64<<10)}
	n := 0
	var pending []PackedBlob
	pack := func() error {
		var packID ID
		hasID := false
		pending = pending[:0]
		err := s.object(func(k string) error {
			switch k {
			case "id":
				if hasID {
					return errors.New("pack with two ids")
				}
				id, err := s.id()
				packID, hasID = id, err == nil
				return err
			case "blobs":
				return s.array(func() error {
					if n++; n > maxIndexEntriesPerFile {
						return errIndexEntries
					}
					var b PackedBlob
					err := s.object(func(k string) error {
						var err error
						switch k {
						case "id":
							b.ID, err = s.id()
						case "type":
							if err = s.expect('"'); err == nil {
								var t []byte
								if t, err = s.str(true); err == nil {
									switch string(t) {
									case "data":
										b.Type = DataBlob
									case "tree":
										b.Type = TreeBlob
									default:
										err = b.Type.UnmarshalJSON([]byte(`"` + string(t) + `"`))
									}
								}
							}
						case "offset":
							b.Offset, err = s.uint32()
						case "length":
							b.Length, err = s.uint32()
						case "uncompressed_length":
							b.UncompressedLength, err = s.uint32()
						default:
							err = s.skip()
						}
						return err
					})
					if err != nil {
						return err
					}
					if b.Type != DataBlob && b.Type != TreeBlob {
						return errors.New("bad blob type")
					}
					if b.Length < Overhead {
						return errors.New("blob length too small")
					}
					if hasID {
						// restic writes the pack's id first: no need to hold its blobs
						b.PackID = packID
						return add(b)
					}
					pending = append(pending, b)
					return nil
				})
			}
			return s.skip()
		})
		if err != nil {
			return err
		}
		for _, b := range pending {
			b.PackID = packID
			if err := add(b); err != nil {
				return err
			}
		}
		return nil
	}
	c, err := s.peek()
	if err != nil {
		return nil, fmt.Errorf("invalid index: %w", err)
	}
	if c == '[' {
		err = s.array(pack)
	} else {
		err = s.object(func(k string) error {
			switch k {
			case "supersedes":
				return s.array(func() error {
					if len(supersedes) >= maxIndexEntriesPerFile {
						return errIndexEntries
					}
					id, err := s.id()
					supersedes = append(supersedes, id)
					return err
				})
			case "packs":
				return s.array(pack)
			}
			return s.skip()
		})
	}
	if err == nil {
		// nothing but white space may follow
		if _, e := s.next(); e == nil {
			err = errors.New("data after the index")
		}
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("index: %w", err)
		}
		return nil, fmt.Errorf("invalid index: %w", err)
	}
	return supersedes, nil
}
