package repo

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// encodeTreeJSON is EncodeTree done by encoding/json, the reference.
func encodeTreeJSON(t *Tree) ([]byte, error) {
	sort.Slice(t.Nodes, func(i, j int) bool { return t.Nodes[i].Name < t.Nodes[j].Name })
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var nastyStrings = []string{"", "plain", "a\"b\\c", "<tag>&amp;", "\x00\x01\b\f\n\r\t\x1f\x7f", "\u2028\u2029",
	"caf\u00e9", "cafe\u0301", "\xff\xfe invalid", "日本語", "emoji 🙂", "a/b", "..", "C:\\x", "\xed\xa0\x80x", "tab\tname"}

func randomNode(r *rand.Rand) *Node {
	pick := func() string {
		return nastyStrings[r.IntN(len(nastyStrings))] + nastyStrings[r.IntN(len(nastyStrings))]
	}
	loc := []*time.Location{time.UTC, time.FixedZone("x", 3600+1800), time.FixedZone("y", -7*3600), time.Local}[r.IntN(4)]
	tm := func() time.Time {
		if r.IntN(10) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9)*int64(r.IntN(2))).In(loc)
	}
	n := &Node{Name: pick(), Type: []string{NodeFile, NodeDir, NodeSymlink, NodeFifo, NodeDev}[r.IntN(5)],
		Mode: 0, ModTime: tm(), AccessTime: tm(), ChangeTime: tm(),
		UID: uint32(r.IntN(3) * 1000), GID: uint32(r.IntN(2) * 1000)}
	if r.IntN(2) == 0 {
		n.Mode = os.FileMode(0o644 | []uint32{0, 1 << 31, 1 << 27, 1 << 23}[r.IntN(4)])
	}
	if r.IntN(2) == 0 {
		n.User, n.Group = pick(), pick()
	}
	if r.IntN(2) == 0 {
		n.Inode, n.DeviceID, n.Size, n.Links, n.Device = r.Uint64(), uint64(r.IntN(2))*r.Uint64(), r.Uint64()>>r.IntN(64), uint64(r.IntN(3)), uint64(r.IntN(2))*77
	}
	if r.IntN(3) == 0 {
		n.LinkTarget = pick()
	}
	if r.IntN(4) == 0 {
		n.ExtendedAttributes = []ExtendedAttribute{{Name: pick(), Value: nil}, {Name: "user.x", Value: []byte{}}, {Name: pick(), Value: []byte(pick())}}
	}
	if r.IntN(6) == 0 {
		n.GenericAttributes = map[string]json.RawMessage{"windows.attrs": json.RawMessage(`{ "a" : 1, "h": "<x>" }`), "b": json.RawMessage(`[1, 2]`)}
	}
	switch r.IntN(3) {
	case 0:
		n.Content = []ID{}
	case 1:
		for i := r.IntN(4); i > 0; i-- {
			var id ID
			id[0], id[31] = byte(r.Uint32()), byte(r.Uint32())
			n.Content = append(n.Content, id)
		}
	}
	if r.IntN(3) == 0 {
		id := ID{1, 2, 3}
		n.Subtree = &id
	}
	if r.IntN(5) == 0 {
		n.Error = pick()
	}
	return n
}

// The hand-written tree encoder writes exactly what encoding/json writes, so
// tree IDs are the same as before and as restic's for the same nodes.
func TestTreeEncodingMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 3000; i++ {
		tr := &Tree{Nodes: []*Node{}}
		for j := r.IntN(6); j > 0; j-- {
			tr.Nodes = append(tr.Nodes, randomNode(r))
		}
		want, werr := encodeTreeJSON(tr)
		got, gerr := EncodeTree(tr)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("errors differ: encoding/json %v, travelkit %v", werr, gerr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("tree %d differs:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzTreeEncoding(f *testing.F) {
	f.Add("name", "target", int64(1700000000), uint32(0o644), []byte("user.x"))
	f.Add("\xff<&>\u2028", "\x00", int64(-62135596800), uint32(1<<31|0o755), []byte{})
	f.Fuzz(func(t *testing.T, name, target string, sec int64, mode uint32, xattr []byte) {
		n := &Node{Name: name, Type: NodeSymlink, LinkTarget: target, Mode: os.FileMode(mode), ModTime: time.Unix(sec, 5).UTC(),
			User: target, ExtendedAttributes: []ExtendedAttribute{{Name: name, Value: xattr}}}
		tr := &Tree{Nodes: []*Node{n}}
		want, werr := encodeTreeJSON(tr)
		got, gerr := EncodeTree(tr)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("errors differ: encoding/json %v, travelkit %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("differs:\n got %q\nwant %q", got, want)
		}
	})
}

// checkFastDecode fails t when the fast tree decoder accepts b and encoding/json
// refuses it or decodes other nodes. It reports whether the fast path took b.
func checkFastDecode(t *testing.T, b []byte) bool {
	t.Helper()
	fast, ok := decodeTreeFast(b)
	slow, err := decodeTreeJSON(b)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast decoder took a tree encoding/json refuses (%v):\n%s", err, b)
	}
	if !reflect.DeepEqual(fast, slow) {
		fj, _ := json.Marshal(fast)
		sj, _ := json.Marshal(slow)
		t.Fatalf("fast decoder differs from encoding/json on\n%s\n fast %s\n json %s", b, fj, sj)
	}
	return true
}

// The fast tree decoder gives what encoding/json gives, or leaves the tree to it.
func TestTreeFastDecodeMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	took := 0
	for i := 0; i < 3000; i++ {
		tr := &Tree{Nodes: []*Node{}}
		for j := r.IntN(5); j > 0; j-- {
			n := randomNode(r)
			if r.IntN(2) == 0 {
				// the common case: plain names, no attributes
				n.Name, n.LinkTarget, n.User, n.Group, n.Error = "file"+strconv.Itoa(j)+"é", "", "amina", "staff", ""
				n.ExtendedAttributes, n.GenericAttributes = nil, nil
			}
			if n.Type == NodeDir && n.Subtree == nil && r.IntN(4) != 0 {
				n.Subtree = &ID{9}
			}
			tr.Nodes = append(tr.Nodes, n)
		}
		b, err := EncodeTree(tr)
		if err != nil {
			continue
		}
		if checkFastDecode(t, b) {
			took++
		}
		// and broken or unusual variants of it
		for k := 0; k < 6; k++ {
			m := append([]byte(nil), b...)
			p := r.IntN(len(m))
			switch r.IntN(4) {
			case 0:
				m[p] = "0123456789\"\\,:{}[] nulx-.eE"[r.IntN(27)]
			case 1:
				m = append(m[:p], m[p+1:]...)
			case 2:
				m = append(m[:p], append([]byte{" \t0\",:}]"[r.IntN(8)]}, m[p:]...)...)
			case 3:
				m = bytes.Replace(m, []byte(`"`+[]string{"name", "mode", "size", "content", "subtree", "mtime", "uid"}[r.IntN(7)]+`"`),
					[]byte(`"`+[]string{"Name", "name", "mode", "size", "nodes", "xyz"}[r.IntN(6)]+`"`), 1)
			}
			checkFastDecode(t, m)
		}
	}
	if took < 1000 {
		t.Fatalf("fast decoder took only %d of the trees", took)
	}
	for _, s := range []string{
		`{"nodes":[]}`, `{"nodes":[]}` + "\n", ` { "nodes" : [ { } ] } `, `{"nodes":null}`, `{"nodes":[null]}`, `{"nodes":[{}],"x":1}`,
		`{"nodes":[{"name":"a","name":"b"}]}`, `{"nodes":[{"size":01}]}`, `{"nodes":[{"size":-1}]}`, `{"nodes":[{"size":1.0}]}`,
		`{"nodes":[{"size":18446744073709551615}]}`, `{"nodes":[{"size":18446744073709551616}]}`, `{"nodes":[{"mode":4294967295}]}`,
		`{"nodes":[{"mode":4294967296}]}`, `{"nodes":[{"uid":0}]}`, `{"nodes":[{"content":[]}]}`, `{"nodes":[{"content":null}]}`,
		`{"nodes":[{"content":["` + strings.Repeat("A", 64) + `"]}]}`, `{"nodes":[{"content":["` + strings.Repeat("a", 63) + `"]}]}`,
		`{"nodes":[{"type":"dir"}]}`, `{"nodes":[{"type":"dir","subtree":null}]}`, `{"nodes":[{"type":"dir","subtree":"` + strings.Repeat("0", 64) + `"}]}`,
		`{"nodes":[{"mtime":"2026-11-30T12:00:00.5+01:30"}]}`, `{"nodes":[{"mtime":"2026-11-30T12:00:00Z"}]}`, `{"nodes":[{"mtime":"2026-13-30T12:00:00Z"}]}`,
		`{"nodes":[{"mtime":null}]}`, `{"nodes":[{"name":"\u00e9"}]}`, `{"nodes":[{"name":"` + "\xff" + `"}]}`, `{"nodes":[{"user":"é"}]}`,
		`{"nodes":[{"name":"a"}]} x`, `{"nodes":[{"name":"a"},]}`, `{"nodes":[{"name":"a",}]}`, `{"nodes":[{"error":"x","error":"y"}]}`,
	} {
		checkFastDecode(t, []byte(s))
	}
}
