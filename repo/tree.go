package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// Node types.
const (
	NodeFile      = "file"
	NodeDir       = "dir"
	NodeSymlink   = "symlink"
	NodeDev       = "dev"
	NodeCharDev   = "chardev"
	NodeFifo      = "fifo"
	NodeSocket    = "socket"
	NodeIrregular = "irregular"
)

// ExtendedAttribute is one xattr of a node.
type ExtendedAttribute struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

// Node is one entry of a tree, field for field as restic stores it so that
// encoding/json produces the same bytes.
type Node struct {
	Name               string                     `json:"name"`
	Type               string                     `json:"type"`
	Mode               os.FileMode                `json:"mode,omitempty"`
	ModTime            time.Time                  `json:"mtime"`
	AccessTime         time.Time                  `json:"atime"`
	ChangeTime         time.Time                  `json:"ctime"`
	UID                uint32                     `json:"uid"`
	GID                uint32                     `json:"gid"`
	User               string                     `json:"user,omitempty"`
	Group              string                     `json:"group,omitempty"`
	Inode              uint64                     `json:"inode,omitempty"`
	DeviceID           uint64                     `json:"device_id,omitempty"`
	Size               uint64                     `json:"size,omitempty"`
	Links              uint64                     `json:"links,omitempty"`
	LinkTarget         string                     `json:"linktarget,omitempty"`
	LinkTargetRaw      []byte                     `json:"linktarget_raw,omitempty"`
	ExtendedAttributes []ExtendedAttribute        `json:"extended_attributes,omitempty"`
	GenericAttributes  map[string]json.RawMessage `json:"generic_attributes,omitempty"`
	Device             uint64                     `json:"device,omitempty"`
	Content            []ID                       `json:"content"`
	Subtree            *ID                        `json:"subtree,omitempty"`
	Error              string                     `json:"error,omitempty"`
}

type nodeJSON Node

// clampYear keeps a time inside what encoding/json can write (years 0..9999).
func clampYear(t time.Time) time.Time {
	switch y := t.Year(); {
	case y < 0:
		return t.AddDate(-y, 0, 0)
	case y > 9999:
		return t.AddDate(9999-y, 0, 0)
	}
	return t
}

// MarshalJSON writes the node as restic does: the name is Go-quoted (so bytes
// that are not UTF-8 survive as \x escapes), and a symlink target that is not
// UTF-8 goes to linktarget_raw.
func (n Node) MarshalJSON() ([]byte, error) {
	n.ModTime = clampYear(n.ModTime)
	n.AccessTime = clampYear(n.AccessTime)
	n.ChangeTime = clampYear(n.ChangeTime)
	j := nodeJSON(n)
	q := strconv.Quote(n.Name)
	j.Name = q[1 : len(q)-1]
	j.LinkTargetRaw = nil
	if !utf8.ValidString(n.LinkTarget) {
		j.LinkTargetRaw = []byte(n.LinkTarget)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reverses MarshalJSON.
func (n *Node) UnmarshalJSON(b []byte) error {
	j := (*nodeJSON)(n)
	if err := json.Unmarshal(b, j); err != nil {
		return err
	}
	return n.finishDecode()
}

// finishDecode unquotes the name and takes a raw symlink target.
func (n *Node) finishDecode() error {
	name, err := strconv.Unquote(`"` + n.Name + `"`)
	if err != nil {
		return fmt.Errorf("invalid node name %q: %w", n.Name, err)
	}
	n.Name = name
	if n.LinkTargetRaw != nil {
		n.LinkTarget = string(n.LinkTargetRaw)
		n.LinkTargetRaw = nil
	}
	return nil
}

// Tree is a directory listing, sorted by name.
type Tree struct {
	Nodes []*Node `json:"nodes"`
}

// EncodeTree returns the exact bytes restic stores for t: encoding/json plus a
// newline, with the nodes sorted by name.
func EncodeTree(t *Tree) ([]byte, error) {
	if t.Nodes == nil {
		t.Nodes = []*Node{}
	}
	sortTree(t)
	return appendTree(make([]byte, 0, 64+350*len(t.Nodes)), t)
}

// DecodeTree parses a tree blob.
func DecodeTree(b []byte) (*Tree, error) {
	if t, ok := decodeTreeFast(b); ok {
		return t, nil
	}
	return decodeTreeJSON(b)
}

// decodeTreeJSON parses a tree blob with encoding/json.
func decodeTreeJSON(b []byte) (*Tree, error) {
	// nodes decode as nodeJSON (no UnmarshalJSON of their own, which would
	// scan every node's bytes a second time) and are finished here as
	// Node.UnmarshalJSON finishes them
	var j struct {
		Nodes []*nodeJSON `json:"nodes"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("invalid tree: %w", err)
	}
	t := Tree{Nodes: make([]*Node, len(j.Nodes))}
	for i, nj := range j.Nodes {
		if nj == nil {
			return nil, fmt.Errorf("invalid tree: null node")
		}
		n := (*Node)(nj)
		if err := n.finishDecode(); err != nil {
			return nil, fmt.Errorf("invalid tree: %w", err)
		}
		t.Nodes[i] = n
		if n.Type == NodeDir && n.Subtree == nil {
			return nil, fmt.Errorf("invalid tree: directory %q without subtree", n.Name)
		}
	}
	return &t, nil
}

// LoadTree loads and parses a tree blob.
func (r *Repository) LoadTree(ctx context.Context, id ID) (*Tree, error) {
	t, _, err := r.loadTreeSized(ctx, id)
	return t, err
}

// loadTreeSized loads and parses a tree blob and returns the size of its JSON.
func (r *Repository) loadTreeSized(ctx context.Context, id ID) (*Tree, int64, error) {
	if err := r.ensureIndex(ctx); err != nil {
		return nil, 0, err
	}
	b, err := r.LoadBlob(ctx, TreeBlob, id, nil)
	if err != nil {
		return nil, 0, err
	}
	t, err := DecodeTree(b)
	if err != nil {
		return nil, 0, fmt.Errorf("tree %s: %w", id.Str(), err)
	}
	return t, int64(len(b)), nil
}

// SaveTree stores a tree blob and returns its ID.
func (r *Repository) SaveTree(t *Tree) (ID, error) {
	b, err := EncodeTree(t)
	if err != nil {
		return ID{}, err
	}
	id := Hash(b)
	_, err = r.SaveBlob(TreeBlob, id, b, nil)
	return id, err
}
