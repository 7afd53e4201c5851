package luks

import (
	"encoding/base64"
	"strconv"
)

// What a dump shows of a header, beyond Keyslots and Tokens: the data segments, the
// digests and the config object, read from the header copy in use (current). Every value
// here was validated by Open.

// SegmentInfo describes one data segment.
type SegmentInfo struct {
	ID         int
	Type       string // "crypt"
	Offset     int64  // bytes from the start of the device
	Size       int64  // bytes; -1: "dynamic", to the end of the device
	Cipher     string // "aes-xts-plain64"
	SectorSize int
}

// DigestInfo describes one volume key digest.
type DigestInfo struct {
	ID         int
	Type       string // "pbkdf2"
	Hash       string
	Iterations int
	Salt       []byte
	Digest     []byte
	Keyslots   []int // the keyslots whose key it checks
	Segments   []int
}

// Segments lists the data segments in id order.
func (c *Container) Segments() []SegmentInfo {
	md := c.meta()
	var out []SegmentInfo
	for _, id := range sortedIDs(md.Segments) {
		s := md.Segments[id]
		size := int64(-1)
		if s.Size != "dynamic" {
			size, _ = parseDecimal(s.Size)
		}
		out = append(out, SegmentInfo{ID: atoi(id), Type: s.Type, Offset: int64(s.Offset), Size: size,
			Cipher: s.Encryption, SectorSize: s.SectorSize})
	}
	return out
}

// Digests lists the volume key digests in id order.
func (c *Container) Digests() []DigestInfo {
	md := c.meta()
	var out []DigestInfo
	for _, id := range sortedIDs(md.Digests) {
		d := md.Digests[id]
		salt, _ := base64.StdEncoding.DecodeString(d.Salt)
		sum, _ := base64.StdEncoding.DecodeString(d.Digest)
		out = append(out, DigestInfo{ID: atoi(id), Type: d.Type, Hash: d.Hash, Iterations: d.Iterations,
			Salt: salt, Digest: sum, Keyslots: atois(d.Keyslots), Segments: atois(d.Segments)})
	}
	return out
}

// KeyslotsAreaSize is the config's keyslots_size: the bytes after the two JSON areas that
// hold keyslot material.
func (c *Container) KeyslotsAreaSize() int64 {
	return int64(c.meta().Config.KeyslotsSize)
}

// Flags are the config's persistent flags (allow-discards, ...).
func (c *Container) Flags() []string {
	return append([]string(nil), c.meta().Config.Flags...)
}

// Requirements are the config's mandatory requirements (travelkit opens volumes only
// when it knows them all).
func (c *Container) Requirements() []string {
	md := c.meta()
	if md.Config.Requirements == nil {
		return nil
	}
	return append([]string(nil), md.Config.Requirements.Mandatory...)
}

// atoi reads an object id of the metadata (validated: "0" to "31").
func atoi(id string) int {
	n, _ := strconv.Atoi(id)
	return n
}

func atois(ids []string) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		out = append(out, atoi(id))
	}
	return out
}
