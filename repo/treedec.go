package repo

import (
	"bytes"
	"encoding/hex"
	"os"
	"time"
	"unicode/utf8"
)

// decodeTreeFast parses the trees travelkit and restic write (keys as
// EncodeTree writes them, strings without escapes, plain numbers) without
// reflection and with one allocation for all nodes: the parent trees are
// most of the work of an incremental backup of many small files. It gives up
// (ok false) on anything else, and DecodeTree then parses with
// encoding/json, which decides, so both give the same tree or the same
// refusal: every tree the fast path accepts is one encoding/json decodes to
// the same nodes (TestTreeFastDecodeMatchesJSON, FuzzTree).
func decodeTreeFast(b []byte) (*Tree, bool) {
	d := treeDecoder{b: b}
	if !d.lit(`{`) || !d.key("nodes") || !d.lit(`[`) {
		return nil, false
	}
	// one node per "name" key in a tree as written: the right size at once
	nodes := make([]Node, 0, bytes.Count(b, []byte(`{"name":`))+1)
	if d.peek() == ']' {
		d.i++
	} else {
		for {
			nodes = append(nodes, Node{})
			if !d.node(&nodes[len(nodes)-1]) {
				return nil, false
			}
			if d.lit(",") {
				continue
			}
			if !d.lit("]") {
				return nil, false
			}
			break
		}
	}
	if !d.lit("}") {
		return nil, false
	}
	d.space()
	if d.i != len(b) {
		return nil, false
	}
	t := &Tree{Nodes: make([]*Node, len(nodes))}
	for i := range nodes {
		n := &nodes[i]
		if n.Type == NodeDir && n.Subtree == nil {
			return nil, false // encoding/json's path gives the error
		}
		t.Nodes[i] = n
	}
	return t, true
}

type treeDecoder struct {
	b []byte
	i int
	// the last user and group names: nodes of one tree mostly share them,
	// and share their strings too
	user, group string
}

func (d *treeDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *treeDecoder) peek() byte {
	d.space()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// lit consumes s after optional white space.
func (d *treeDecoder) lit(s string) bool {
	d.space()
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// str returns the bytes of a JSON string without escapes, control
// characters or invalid UTF-8 (those are left to encoding/json).
func (d *treeDecoder) str() ([]byte, bool) {
	if !d.lit(`"`) {
		return nil, false
	}
	start, ascii := d.i, true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return nil, false
}

// key consumes "name" and the colon after it.
func (d *treeDecoder) key(name string) bool {
	k, ok := d.str()
	return ok && string(k) == name && d.lit(":")
}

// uint reads a number of digits that fits in bits bits.
func (d *treeDecoder) uint(bits uint) (uint64, bool) {
	d.space()
	start := d.i
	var v uint64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		c := uint64(d.b[d.i] - '0')
		if v > (1<<bits-1-c)/10 {
			return 0, false
		}
		v = v*10 + c
		d.i++
	}
	n := d.i - start
	if n == 0 || n > 1 && d.b[start] == '0' {
		return 0, false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return v, true
}

func (d *treeDecoder) time(t *time.Time) bool {
	d.space()
	start := d.i
	if _, ok := d.str(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

func (d *treeDecoder) id(id *ID) bool {
	s, ok := d.str()
	if !ok || len(s) != 2*len(id) {
		return false
	}
	_, err := hex.Decode(id[:], s)
	return err == nil
}

// Node fields, one bit each, to refuse a key given twice.
const (
	fName = 1 << iota
	fType
	fMode
	fMtime
	fAtime
	fCtime
	fUID
	fGID
	fUser
	fGroup
	fInode
	fDeviceID
	fSize
	fLinks
	fLinkTarget
	fDevice
	fContent
	fSubtree
	fError
)

func (d *treeDecoder) node(n *Node) bool {
	if !d.lit("{") {
		return false
	}
	if d.peek() == '}' {
		d.i++
		return true
	}
	var seen uint32
	for {
		k, ok := d.str()
		if !ok || !d.lit(":") {
			return false
		}
		var f uint32
		var v uint64
		switch string(k) {
		case "name":
			f = fName
			var s []byte
			s, ok = d.str()
			// MarshalJSON Go-quotes the name; without a backslash
			// unquoting leaves it as it is
			n.Name = string(s)
		case "type":
			f = fType
			var s []byte
			s, ok = d.str()
			n.Type = nodeType(s)
		case "mode":
			f = fMode
			v, ok = d.uint(32)
			n.Mode = os.FileMode(v)
		case "mtime":
			f, ok = fMtime, d.time(&n.ModTime)
		case "atime":
			f, ok = fAtime, d.time(&n.AccessTime)
		case "ctime":
			f, ok = fCtime, d.time(&n.ChangeTime)
		case "uid":
			f = fUID
			v, ok = d.uint(32)
			n.UID = uint32(v)
		case "gid":
			f = fGID
			v, ok = d.uint(32)
			n.GID = uint32(v)
		case "user":
			f = fUser
			n.User, ok = d.shared(&d.user)
		case "group":
			f = fGroup
			n.Group, ok = d.shared(&d.group)
		case "inode":
			f = fInode
			n.Inode, ok = d.uint(64)
		case "device_id":
			f = fDeviceID
			n.DeviceID, ok = d.uint(64)
		case "size":
			f = fSize
			n.Size, ok = d.uint(64)
		case "links":
			f = fLinks
			n.Links, ok = d.uint(64)
		case "linktarget":
			f = fLinkTarget
			n.LinkTarget, ok = d.string()
		case "device":
			f = fDevice
			n.Device, ok = d.uint(64)
		case "content":
			f, ok = fContent, d.content(n)
		case "subtree":
			f = fSubtree
			if d.lit("null") {
				n.Subtree = nil
				break
			}
			var id ID
			if ok = d.id(&id); ok {
				n.Subtree = &id
			}
		case "error":
			f = fError
			n.Error, ok = d.string()
		default:
			// linktarget_raw, attributes, keys in other cases: encoding/json's
			return false
		}
		if !ok || seen&f != 0 {
			return false
		}
		seen |= f
		if d.lit(",") {
			continue
		}
		return d.lit("}")
	}
}

func (d *treeDecoder) string() (string, bool) {
	s, ok := d.str()
	return string(s), ok
}

// shared reads a string, returning *last when it is the same.
func (d *treeDecoder) shared(last *string) (string, bool) {
	s, ok := d.str()
	if !ok {
		return "", false
	}
	if string(s) != *last {
		*last = string(s)
	}
	return *last, true
}

func (d *treeDecoder) content(n *Node) bool {
	if d.lit("null") {
		n.Content = nil
		return true
	}
	if !d.lit("[") {
		return false
	}
	// count the IDs first: one allocation of the right size
	cnt, j := 0, d.i
	for ; j < len(d.b) && d.b[j] != ']'; j++ {
		if d.b[j] == '"' {
			cnt++
		}
	}
	n.Content = make([]ID, 0, cnt/2)
	if d.peek() == ']' {
		d.i++
		return true
	}
	for {
		var id ID
		if !d.id(&id) {
			return false
		}
		n.Content = append(n.Content, id)
		if d.lit(",") {
			continue
		}
		return d.lit("]")
	}
}

// nodeType returns the node type constants without a new string.
func nodeType(s []byte) string {
	switch string(s) {
	case NodeFile:
		return NodeFile
	case NodeDir:
		return NodeDir
	case NodeSymlink:
		return NodeSymlink
	}
	return string(s)
}
