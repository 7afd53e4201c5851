package repo

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendTree writes the bytes encoding/json writes for t (nodes sorted by
// name), without reflection and without compacting each node's JSON a second
// time: trees are most of the metadata work of a backup of many small files.
// TestTreeEncodingMatchesJSON and FuzzTreeEncoding compare it with
// encoding/json.
func appendTree(b []byte, t *Tree) ([]byte, error) {
	b = append(b, `{"nodes":[`...)
	for i, n := range t.Nodes {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendNode(b, n); err != nil {
			return nil, err
		}
	}
	return append(b, "]}\n"...), nil
}

func appendNode(b []byte, n *Node) ([]byte, error) {
	if n == nil {
		return append(b, "null"...), nil
	}
	q := strconv.Quote(n.Name)
	b = append(b, `{"name":`...)
	b = appendJSONString(b, q[1:len(q)-1])
	b = append(b, `,"type":`...)
	b = appendJSONString(b, n.Type)
	if n.Mode != 0 {
		b = append(b, `,"mode":`...)
		b = strconv.AppendUint(b, uint64(n.Mode), 10)
	}
	var err error
	b = append(b, `,"mtime":`...)
	if b, err = appendTime(b, n.ModTime); err != nil {
		return nil, err
	}
	b = append(b, `,"atime":`...)
	if b, err = appendTime(b, n.AccessTime); err != nil {
		return nil, err
	}
	b = append(b, `,"ctime":`...)
	if b, err = appendTime(b, n.ChangeTime); err != nil {
		return nil, err
	}
	b = append(b, `,"uid":`...)
	b = strconv.AppendUint(b, uint64(n.UID), 10)
	b = append(b, `,"gid":`...)
	b = strconv.AppendUint(b, uint64(n.GID), 10)
	if n.User != "" {
		b = append(b, `,"user":`...)
		b = appendJSONString(b, n.User)
	}
	if n.Group != "" {
		b = append(b, `,"group":`...)
		b = appendJSONString(b, n.Group)
	}
	if n.Inode != 0 {
		b = append(b, `,"inode":`...)
		b = strconv.AppendUint(b, n.Inode, 10)
	}
	if n.DeviceID != 0 {
		b = append(b, `,"device_id":`...)
		b = strconv.AppendUint(b, n.DeviceID, 10)
	}
	if n.Size != 0 {
		b = append(b, `,"size":`...)
		b = strconv.AppendUint(b, n.Size, 10)
	}
	if n.Links != 0 {
		b = append(b, `,"links":`...)
		b = strconv.AppendUint(b, n.Links, 10)
	}
	if n.LinkTarget != "" {
		b = append(b, `,"linktarget":`...)
		b = appendJSONString(b, n.LinkTarget)
	}
	if !utf8.ValidString(n.LinkTarget) {
		b = append(b, `,"linktarget_raw":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(n.LinkTarget))
		b = append(b, '"')
	}
	if len(n.ExtendedAttributes) > 0 {
		b = append(b, `,"extended_attributes":[`...)
		for i, a := range n.ExtendedAttributes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, a.Name)
			b = append(b, `,"value":`...)
			if a.Value == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '"')
				b = base64.StdEncoding.AppendEncode(b, a.Value)
				b = append(b, '"')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(n.GenericAttributes) > 0 {
		// rare (Windows attributes): encoding/json does the map
		j, err := json.Marshal(n.GenericAttributes)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"generic_attributes":`...)
		b = append(b, j...)
	}
	if n.Device != 0 {
		b = append(b, `,"device":`...)
		b = strconv.AppendUint(b, n.Device, 10)
	}
	b = append(b, `,"content":`...)
	if n.Content == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendID(b, id)
		}
		b = append(b, ']')
	}
	if n.Subtree != nil {
		b = append(b, `,"subtree":`...)
		b = appendID(b, *n.Subtree)
	}
	if n.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, n.Error)
	}
	return append(b, '}'), nil
}

func appendID(b []byte, id ID) []byte {
	b = append(b, '"')
	b = hex.AppendEncode(b, id[:])
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	t = clampYear(t)
	if y := t.Year(); y < 0 || y > 9999 {
		// what encoding/json refuses
		_, err := t.MarshalJSON()
		return nil, err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendJSONString quotes s as encoding/json does (HTML characters, U+2028
// and U+2029 escaped, invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexd[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// sortTree sorts the nodes by name as EncodeTree does.
func sortTree(t *Tree) {
	if !sort.SliceIsSorted(t.Nodes, func(i, j int) bool { return t.Nodes[i].Name < t.Nodes[j].Name }) {
		sort.Slice(t.Nodes, func(i, j int) bool { return t.Nodes[i].Name < t.Nodes[j].Name })
	}
}
