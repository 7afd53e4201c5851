package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ID is the SHA-256 of a blob's plaintext or of a stored file's bytes.
type ID [32]byte

// Hash returns the ID of b.
func Hash(b []byte) ID { return sha256.Sum256(b) }

// ParseID reads a 64-digit hex ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("invalid ID %q", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("invalid ID %q", s)
	}
	return id, nil
}

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Str is the short form used in messages.
func (id ID) Str() string { return hex.EncodeToString(id[:4]) }

// IsNull reports whether id is all zeros.
func (id ID) IsNull() bool { return id == ID{} }

// MarshalJSON writes the ID as a hex string.
func (id ID) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 66)
	b = append(b, '"')
	b = hex.AppendEncode(b, id[:])
	return append(b, '"'), nil
}

// UnmarshalJSON reads a hex string.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	x, err := ParseID(s)
	if err != nil {
		return err
	}
	*id = x
	return nil
}

// BlobType is data or tree.
type BlobType uint8

// Blob types.
const (
	InvalidBlob BlobType = iota
	DataBlob
	TreeBlob
)

func (t BlobType) String() string {
	switch t {
	case DataBlob:
		return "data"
	case TreeBlob:
		return "tree"
	}
	return "invalid"
}

// MarshalJSON writes "data" or "tree".
func (t BlobType) MarshalJSON() ([]byte, error) {
	switch t {
	case DataBlob, TreeBlob:
		return []byte(`"` + t.String() + `"`), nil
	}
	return nil, fmt.Errorf("invalid blob type %d", t)
}

// UnmarshalJSON reads "data" or "tree".
func (t *BlobType) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"data"`:
		*t = DataBlob
	case `"tree"`:
		*t = TreeBlob
	default:
		return fmt.Errorf("invalid blob type %s", b)
	}
	return nil
}

// BlobHandle names a blob.
type BlobHandle struct {
	ID   ID
	Type BlobType
}
