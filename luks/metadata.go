package luks

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Bounds on values read from a header. They keep hostile headers from causing huge
// allocations or endless key derivations; legitimate cryptsetup headers are far inside them.
const (
	maxArgonTime      = 1000      // argon2 passes
	maxArgonParallel  = 255       // lanes (golang.org/x/crypto/argon2 takes a uint8)
	minArgonMemoryKiB = 32        // cryptsetup's minimum
	maxPBKDF2Iter     = 1 << 28   // about a minute of sha256 on a fast core
	maxSaltLen        = 256       // bytes
	maxDigestLen      = 64        // bytes
	luksStripes       = 4000      // the only AF stripe count cryptsetup uses
	maxObjectID       = 31        // keyslot/token/segment/digest ids are "0".."31"
	maxTokenJSON      = 128 << 10 // bytes per token
)

// u64s is a 64-bit value stored as a decimal JSON string, as LUKS2 requires.
type u64s int64

func (v u64s) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(v), 10) + `"`), nil
}

func (v *u64s) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expected a decimal string, got %.40s", b)
	}
	n, err := parseDecimal(s)
	if err != nil {
		return err
	}
	*v = u64s(n)
	return nil
}

// parseDecimal accepts only plain decimal digits (no sign, no spaces) that fit in an int64.
func parseDecimal(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, fmt.Errorf("invalid decimal %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("invalid decimal %q", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid decimal %q", s)
	}
	return n, nil
}

type metadata struct {
	Keyslots map[string]*keyslot        `json:"keyslots"`
	Tokens   map[string]json.RawMessage `json:"tokens"`
	Segments map[string]*segment        `json:"segments"`
	Digests  map[string]*digest         `json:"digests"`
	Config   config                     `json:"config"`
}

type keyslot struct {
	Type     string `json:"type"`
	KeySize  int    `json:"key_size"`
	AF       af     `json:"af"`
	Area     area   `json:"area"`
	KDF      kdf    `json:"kdf"`
	Priority *int   `json:"priority,omitempty"`
}

type af struct {
	Type    string `json:"type"`
	Stripes int    `json:"stripes"`
	Hash    string `json:"hash"`
}

type area struct {
	Type       string `json:"type"`
	Offset     u64s   `json:"offset"`
	Size       u64s   `json:"size"`
	Encryption string `json:"encryption"`
	KeySize    int    `json:"key_size"`
}

type kdf struct {
	Type       string `json:"type"`
	Hash       string `json:"hash,omitempty"`
	Iterations int    `json:"iterations,omitempty"`
	Time       int    `json:"time,omitempty"`
	Memory     int    `json:"memory,omitempty"`
	CPUs       int    `json:"cpus,omitempty"`
	Salt       string `json:"salt"`
}

type segment struct {
	Type       string          `json:"type"`
	Offset     u64s            `json:"offset"`
	Size       string          `json:"size"`
	IVTweak    u64s            `json:"iv_tweak"`
	Encryption string          `json:"encryption"`
	SectorSize int             `json:"sector_size"`
	Integrity  json.RawMessage `json:"integrity,omitempty"`
	Flags      []string        `json:"flags,omitempty"`
}

type digest struct {
	Type       string   `json:"type"`
	Keyslots   []string `json:"keyslots"`
	Segments   []string `json:"segments"`
	Hash       string   `json:"hash"`
	Iterations int      `json:"iterations"`
	Salt       string   `json:"salt"`
	Digest     string   `json:"digest"`
}

type config struct {
	JSONSize     u64s          `json:"json_size"`
	KeyslotsSize u64s          `json:"keyslots_size"`
	Flags        []string      `json:"flags,omitempty"`
	Requirements *requirements `json:"requirements,omitempty"`
}

type requirements struct {
	Mandatory []string `json:"mandatory,omitempty"`
}

// tokenHead is the part of a token every token has.
type tokenHead struct {
	Type     string   `json:"type"`
	Keyslots []string `json:"keyslots"`
}

func parseMetadata(js []byte) (*metadata, error) {
	if len(bytes.TrimSpace(js)) == 0 {
		return nil, errors.New("empty")
	}
	md := &metadata{}
	if err := json.Unmarshal(js, md); err != nil {
		return nil, err
	}
	if md.Keyslots == nil || md.Segments == nil || md.Digests == nil {
		return nil, errors.New("missing keyslots, segments or digests section")
	}
	if md.Tokens == nil {
		md.Tokens = map[string]json.RawMessage{}
	}
	return md, nil
}

func (md *metadata) marshal() ([]byte, error) { return json.Marshal(md) }

// clone deep-copies the metadata through JSON, so that a failed change leaves the original intact.
func (md *metadata) clone() *metadata {
	b, err := md.marshal()
	if err != nil {
		panic("luks: metadata does not marshal: " + err.Error())
	}
	c, err := parseMetadata(b)
	if err != nil {
		panic("luks: metadata does not reparse: " + err.Error())
	}
	return c
}

func objectID(s string) (int, error) {
	n, err := parseDecimal(s)
	if err != nil || n > maxObjectID || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("invalid object id %q", s)
	}
	return int(n), nil
}

func decodeB64(s string, max int) ([]byte, error) {
	if len(s) > base64.StdEncoding.EncodedLen(max) {
		return nil, fmt.Errorf("base64 value longer than %d bytes", max)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %v", err)
	}
	if len(b) == 0 {
		return nil, errors.New("empty base64 value")
	}
	return b, nil
}

func validHash(h string) bool {
	switch h {
	case "sha1", "sha256", "sha512":
		return true
	}
	return false
}

func validXTSKeySize(n int) bool { return n == 32 || n == 64 }

// validate checks the metadata against the rules of the format and travelkit's bounds.
// Unsupported features give *UnsupportedError; malformed metadata a plain error.
func (md *metadata) validate(hdrSize int64, devSize int64) error {
	if int64(md.Config.JSONSize) != hdrSize-binHeaderSize {
		return fmt.Errorf("config.json_size %d does not match header size %d", md.Config.JSONSize, hdrSize)
	}
	ksSize := int64(md.Config.KeyslotsSize)
	if ksSize%4096 != 0 || ksSize > 128<<20 {
		return fmt.Errorf("config.keyslots_size %d is not a multiple of 4096 up to 128 MiB", ksSize)
	}
	if md.Config.Requirements != nil && len(md.Config.Requirements.Mandatory) > 0 {
		return &UnsupportedError{What: fmt.Sprintf("mandatory requirements %v (reencryption in progress or a newer format)", md.Config.Requirements.Mandatory)}
	}
	ksStart, ksEnd := 2*hdrSize, 2*hdrSize+ksSize
	if err := md.validateSegments(ksEnd); err != nil {
		return err
	}
	if err := md.validateKeyslots(ksStart, ksEnd); err != nil {
		return err
	}
	if err := md.validateDigests(); err != nil {
		return err
	}
	return md.validateTokens()
}

// validateSegments: exactly one plain aes-xts-plain64 crypt segment, after the keyslots
// area (which ends at ksEnd).
func (md *metadata) validateSegments(ksEnd int64) error {
	if len(md.Segments) != 1 {
		if len(md.Segments) == 0 {
			return errors.New("no data segment")
		}
		return &UnsupportedError{What: fmt.Sprintf("%d data segments (reencryption in progress?)", len(md.Segments))}
	}
	for id, s := range md.Segments {
		if _, err := objectID(id); err != nil {
			return fmt.Errorf("segment: %v", err)
		}
		if s.Type != "crypt" {
			return &UnsupportedError{What: fmt.Sprintf("segment type %q", s.Type)}
		}
		if s.Encryption != "aes-xts-plain64" {
			return &UnsupportedError{What: fmt.Sprintf("cipher %q (travelkit supports aes-xts-plain64)", s.Encryption)}
		}
		if len(s.Integrity) > 0 && string(s.Integrity) != "null" {
			return &UnsupportedError{What: "authenticated encryption (dm-integrity segment)"}
		}
		switch s.SectorSize {
		case 512, 1024, 2048, 4096:
		default:
			return fmt.Errorf("segment sector_size %d is not 512, 1024, 2048 or 4096", s.SectorSize)
		}
		off := int64(s.Offset)
		if off%int64(s.SectorSize) != 0 && off%512 != 0 {
			return fmt.Errorf("segment offset %d is not sector aligned", off)
		}
		if off < ksEnd {
			return fmt.Errorf("segment offset %d overlaps the header or keyslots area (ends at %d)", off, ksEnd)
		}
		if s.Size != "dynamic" {
			n, err := parseDecimal(s.Size)
			if err != nil {
				return fmt.Errorf("segment size: %v", err)
			}
			if n%int64(s.SectorSize) != 0 || n > (1<<62)-off {
				return fmt.Errorf("segment size %d is invalid", n)
			}
		}
		if s.IVTweak < 0 {
			return errors.New("negative iv_tweak")
		}
	}
	return nil
}

// validateKeyslots: luks2 keyslots with the only splitter and area cryptsetup writes, each
// area inside the keyslots area [ksStart, ksEnd) and overlapping no other, and a KDF with
// bounded costs.
func (md *metadata) validateKeyslots(ksStart, ksEnd int64) error {
	ksSize := ksEnd - ksStart
	type span struct {
		lo, hi int64
		id     string
	}
	var spans []span
	for id, k := range md.Keyslots {
		if _, err := objectID(id); err != nil {
			return fmt.Errorf("keyslot: %v", err)
		}
		if k == nil {
			return fmt.Errorf("keyslot %s is null", id)
		}
		if k.Type != "luks2" {
			if k.Type == "reencrypt" {
				return &UnsupportedError{What: "reencryption in progress (finish it with cryptsetup reencrypt)"}
			}
			return &UnsupportedError{What: fmt.Sprintf("keyslot %s type %q", id, k.Type)}
		}
		if !validXTSKeySize(k.KeySize) {
			return fmt.Errorf("keyslot %s key_size %d is not 32 or 64", id, k.KeySize)
		}
		if k.Priority != nil && (*k.Priority < 0 || *k.Priority > 2) {
			return fmt.Errorf("keyslot %s priority %d is not 0, 1 or 2", id, *k.Priority)
		}
		if k.AF.Type != "luks1" || k.AF.Stripes != luksStripes || !validHash(k.AF.Hash) {
			return fmt.Errorf("keyslot %s anti-forensic splitter {%s, %d stripes, %s} is not supported", id, k.AF.Type, k.AF.Stripes, k.AF.Hash)
		}
		if k.Area.Type != "raw" {
			return &UnsupportedError{What: fmt.Sprintf("keyslot %s area type %q", id, k.Area.Type)}
		}
		if k.Area.Encryption != "aes-xts-plain64" {
			return &UnsupportedError{What: fmt.Sprintf("keyslot %s area cipher %q", id, k.Area.Encryption)}
		}
		if !validXTSKeySize(k.Area.KeySize) {
			return fmt.Errorf("keyslot %s area key_size %d is not 32 or 64", id, k.Area.KeySize)
		}
		lo, sz := int64(k.Area.Offset), int64(k.Area.Size)
		if lo%512 != 0 || sz%512 != 0 || lo < ksStart || sz > ksSize || lo > ksEnd-sz {
			return fmt.Errorf("keyslot %s area [%d, +%d) is outside the keyslots area [%d, %d)", id, lo, sz, ksStart, ksEnd)
		}
		if sz < int64(k.KeySize)*luksStripes {
			return fmt.Errorf("keyslot %s area size %d is smaller than its key material (%d)", id, sz, k.KeySize*luksStripes)
		}
		spans = append(spans, span{lo, lo + sz, id})
		if err := k.KDF.validate(); err != nil {
			return fmt.Errorf("keyslot %s kdf: %w", id, err)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo < spans[i-1].hi {
			return fmt.Errorf("keyslots %s and %s overlap", spans[i-1].id, spans[i].id)
		}
	}
	return nil
}

// validateDigests: pbkdf2 digests with bounded costs and sizes, naming keyslots and
// segments that exist.
func (md *metadata) validateDigests() error {
	for id, d := range md.Digests {
		if _, err := objectID(id); err != nil {
			return fmt.Errorf("digest: %v", err)
		}
		if d == nil {
			return fmt.Errorf("digest %s is null", id)
		}
		if d.Type != "pbkdf2" {
			return &UnsupportedError{What: fmt.Sprintf("digest type %q", d.Type)}
		}
		if !validHash(d.Hash) {
			return fmt.Errorf("digest %s hash %q is not supported", id, d.Hash)
		}
		if d.Iterations < 1 || d.Iterations > maxPBKDF2Iter {
			return fmt.Errorf("digest %s iterations %d out of range", id, d.Iterations)
		}
		if _, err := decodeB64(d.Salt, maxSaltLen); err != nil {
			return fmt.Errorf("digest %s salt: %v", id, err)
		}
		if _, err := decodeB64(d.Digest, maxDigestLen); err != nil {
			return fmt.Errorf("digest %s value: %v", id, err)
		}
		for _, k := range d.Keyslots {
			if md.Keyslots[k] == nil {
				return fmt.Errorf("digest %s names keyslot %q, which does not exist", id, k)
			}
		}
		for _, s := range d.Segments {
			if md.Segments[s] == nil {
				return fmt.Errorf("digest %s names segment %q, which does not exist", id, s)
			}
		}
	}
	return nil
}

// validateTokens: each token a bounded JSON object with a type and keyslots that exist.
func (md *metadata) validateTokens() error {
	for id, raw := range md.Tokens {
		if _, err := objectID(id); err != nil {
			return fmt.Errorf("token: %v", err)
		}
		if err := md.checkToken(raw); err != nil {
			return fmt.Errorf("token %s: %v", id, err)
		}
	}
	return nil
}

func (md *metadata) checkToken(raw []byte) error {
	if len(raw) > maxTokenJSON {
		return fmt.Errorf("larger than %d bytes", maxTokenJSON)
	}
	var th tokenHead
	if err := json.Unmarshal(raw, &th); err != nil {
		return fmt.Errorf("not a JSON object with type and keyslots: %v", err)
	}
	if th.Type == "" {
		return errors.New("missing type")
	}
	if th.Keyslots == nil {
		return errors.New("missing keyslots")
	}
	for _, k := range th.Keyslots {
		if md.Keyslots[k] == nil {
			return fmt.Errorf("names keyslot %q, which does not exist", k)
		}
	}
	return nil
}

func (k *kdf) validate() error {
	if _, err := decodeB64(k.Salt, maxSaltLen); err != nil {
		return fmt.Errorf("salt: %v", err)
	}
	switch k.Type {
	case "pbkdf2":
		if !validHash(k.Hash) {
			return &UnsupportedError{What: fmt.Sprintf("pbkdf2 hash %q", k.Hash)}
		}
		if k.Iterations < 1 || k.Iterations > maxPBKDF2Iter {
			return fmt.Errorf("pbkdf2 iterations %d out of range 1..%d", k.Iterations, maxPBKDF2Iter)
		}
	case "argon2i", "argon2id":
		if k.Time < 1 || k.Time > maxArgonTime {
			return fmt.Errorf("argon2 time %d out of range 1..%d", k.Time, maxArgonTime)
		}
		if k.CPUs < 1 || k.CPUs > maxArgonParallel {
			return fmt.Errorf("argon2 cpus %d out of range 1..%d", k.CPUs, maxArgonParallel)
		}
		if k.Memory < minArgonMemoryKiB || k.Memory > MaxMemoryKiB || k.Memory < 8*k.CPUs {
			return fmt.Errorf("argon2 memory %d KiB out of range %d..%d", k.Memory, minArgonMemoryKiB, MaxMemoryKiB)
		}
	default:
		return &UnsupportedError{What: fmt.Sprintf("key derivation %q", k.Type)}
	}
	return nil
}

// segment returns the single data segment (validated to exist).
func (md *metadata) segment() (string, *segment) {
	for id, s := range md.Segments {
		return id, s
	}
	return "", nil
}

// segmentDigest returns the digest that covers the data segment.
func (md *metadata) segmentDigest() (string, *digest) {
	segID, _ := md.segment()
	ids := sortedIDs(md.Digests)
	for _, id := range ids {
		d := md.Digests[id]
		for _, s := range d.Segments {
			if s == segID {
				return id, d
			}
		}
	}
	return "", nil
}

// keyslotDigest returns the digest a keyslot is bound to.
func (md *metadata) keyslotDigest(slot string) *digest {
	for _, id := range sortedIDs(md.Digests) {
		d := md.Digests[id]
		for _, k := range d.Keyslots {
			if k == slot {
				return d
			}
		}
	}
	return nil
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.Atoi(ids[i])
		b, _ := strconv.Atoi(ids[j])
		return a < b
	})
	return ids
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
