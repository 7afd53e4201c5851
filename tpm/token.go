package tpm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// TokenType is the LUKS2 token type systemd-cryptenroll writes for TPM2 enrolments.
const TokenType = "systemd-tpm2"

// Hard bounds for token parsing. Anything larger is refused before it is decoded.
const (
	MaxTokenJSON   = 64 << 10 // bytes of token JSON
	MaxBlobSize    = 4096     // decoded bytes of one tpm2-blob
	MaxBlobs       = 16       // entries in an array-form tpm2-blob / tpm2-policy-hash
	MaxSaltSize    = 256      // decoded bytes of tpm2_salt
	MaxSRKSize     = 4096     // decoded bytes of tpm2_srk
	MaxPubKeySize  = 8192     // decoded bytes of tpm2_pubkey
	MaxKeyslot     = 31       // LUKS2 keyslot numbers are 0..31
	NumPCRs        = 24       // PC Client TPMs have PCRs 0..23
	maxTokenFields = 64
)

// Token is a systemd-tpm2 LUKS2 token. Field names follow the JSON keys systemd writes.
//
// systemd writes tpm2-blob and tpm2-policy-hash as single strings, newer versions also
// as arrays; both are read. Blobs[i] belongs with PolicyHashes[i] when both have the
// same length.
type Token struct {
	Keyslots     []int    // "keyslots": decimal strings in JSON
	Blobs        [][]byte // "tpm2-blob": base64 of TPM2B_PRIVATE || TPM2B_PUBLIC [|| TPM2B_ENCRYPTED_SECRET]
	PCRs         []int    // "tpm2-pcrs": sorted, unique, 0..23
	PCRBank      string   // "tpm2-pcr-bank": "sha256" or "sha1"; "" if absent
	PrimaryAlg   string   // "tpm2-primary-alg": "ecc" or "rsa"; "" if absent
	PolicyHashes [][]byte // "tpm2-policy-hash": hex
	PIN          bool     // "tpm2-pin"
	Salt         []byte   // "tpm2_salt": base64; only with a PIN
	SRK          []byte   // "tpm2_srk": base64 of a serialized ESYS_TR of the parent key
	PubKey       []byte   // "tpm2_pubkey": signed PCR policy (not supported for unsealing)
	PubKeyPCRs   []int    // "tpm2_pubkey_pcrs"
	PCRLock      bool     // "tpm2_pcrlock" (not supported for unsealing)

	// PCRValues are the PCR values at enrolment (travelkit-specific field
	// "travelkit-pcr-values", which systemd ignores). Used only to name the PCRs that
	// changed when unsealing fails; never trusted for anything else.
	PCRValues map[int][]byte
}

// Blob returns the single sealed blob of the token, or an error if there is not exactly one.
func (t *Token) Blob() ([]byte, error) {
	if len(t.Blobs) != 1 {
		return nil, fmt.Errorf("tpm: token has %d sealed blobs; travelkit unseals tokens with exactly one", len(t.Blobs))
	}
	return t.Blobs[0], nil
}

// PolicyHash returns the single policy hash of the token, or an error if there is not exactly one.
func (t *Token) PolicyHash() ([]byte, error) {
	if len(t.PolicyHashes) != 1 {
		return nil, fmt.Errorf("tpm: token has %d policy hashes; travelkit unseals tokens with exactly one", len(t.PolicyHashes))
	}
	return t.PolicyHashes[0], nil
}

// SplitBlob splits a tpm2-blob into its marshalled TPM2B_PRIVATE and TPM2B_PUBLIC (each
// with its 2-byte size prefix, as tpm2_load takes them) and the optional trailing
// TPM2B_ENCRYPTED_SECRET seed (with prefix; nil if absent) that newer systemd appends
// for objects sealed without a TPM.
func SplitBlob(blob []byte) (private, public, seed []byte, err error) {
	rest := blob
	take := func(what string) ([]byte, error) {
		if len(rest) < 2 {
			return nil, fmt.Errorf("tpm: tpm2-blob truncated before %s size", what)
		}
		n := int(binary.BigEndian.Uint16(rest))
		if n == 0 {
			return nil, fmt.Errorf("tpm: tpm2-blob has an empty %s", what)
		}
		if len(rest) < 2+n {
			return nil, fmt.Errorf("tpm: tpm2-blob truncated inside %s (%d of %d bytes)", what, len(rest)-2, n)
		}
		b := rest[:2+n]
		rest = rest[2+n:]
		return b, nil
	}
	if private, err = take("TPM2B_PRIVATE"); err != nil {
		return nil, nil, nil, err
	}
	if public, err = take("TPM2B_PUBLIC"); err != nil {
		return nil, nil, nil, err
	}
	if len(rest) > 0 {
		if seed, err = take("TPM2B_ENCRYPTED_SECRET"); err != nil {
			return nil, nil, nil, err
		}
		if len(rest) > 0 {
			return nil, nil, nil, fmt.Errorf("tpm: tpm2-blob has %d trailing bytes", len(rest))
		}
	}
	return private, public, seed, nil
}

// ParseToken parses and validates the JSON of a systemd-tpm2 token, as systemd-cryptenroll
// or travelkit wrote it. Every field is checked against hard bounds.
func ParseToken(data []byte) (*Token, error) {
	raw, err := tokenObject(data, "token", TokenType)
	if err != nil {
		return nil, err
	}
	t := &Token{}
	if t.Keyslots, err = keyslotsField(raw, "token"); err != nil {
		return nil, err
	}

	blobs, err := stringOrArray(raw, "tpm2-blob")
	if err != nil {
		return nil, err
	}
	for _, s := range blobs {
		if base64.StdEncoding.DecodedLen(len(s)) > MaxBlobSize+3 {
			return nil, fmt.Errorf("tpm: tpm2-blob is larger than %d bytes", MaxBlobSize)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("tpm: tpm2-blob is not base64: %w", err)
		}
		if len(b) > MaxBlobSize {
			return nil, fmt.Errorf("tpm: tpm2-blob is larger than %d bytes", MaxBlobSize)
		}
		if _, _, _, err := SplitBlob(b); err != nil {
			return nil, err
		}
		t.Blobs = append(t.Blobs, b)
	}

	hashes, err := stringOrArray(raw, "tpm2-policy-hash")
	if err != nil {
		return nil, err
	}
	for _, s := range hashes {
		if len(s) > 128 {
			return nil, errors.New("tpm: tpm2-policy-hash is too long")
		}
		h, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("tpm: tpm2-policy-hash is not hex: %w", err)
		}
		if len(h) != 32 && len(h) != 20 {
			return nil, fmt.Errorf("tpm: tpm2-policy-hash has %d bytes, want 32 (sha256) or 20 (sha1)", len(h))
		}
		t.PolicyHashes = append(t.PolicyHashes, h)
	}

	if t.PCRs, err = pcrList(raw, "tpm2-pcrs", true); err != nil {
		return nil, err
	}
	if err := field(raw, "tpm2-pcr-bank", &t.PCRBank, false); err != nil {
		return nil, err
	}
	switch t.PCRBank {
	case "", "sha256", "sha1":
	default:
		return nil, fmt.Errorf("tpm: tpm2-pcr-bank %q is not sha256 or sha1", t.PCRBank)
	}
	if err := field(raw, "tpm2-primary-alg", &t.PrimaryAlg, false); err != nil {
		return nil, err
	}
	switch t.PrimaryAlg {
	case "", "ecc", "rsa":
	default:
		return nil, fmt.Errorf("tpm: tpm2-primary-alg %q is not ecc or rsa", t.PrimaryAlg)
	}
	if err := field(raw, "tpm2-pin", &t.PIN, false); err != nil {
		return nil, err
	}
	if err := field(raw, "tpm2_pcrlock", &t.PCRLock, false); err != nil {
		return nil, err
	}
	if t.Salt, err = b64Field(raw, "tpm2_salt", MaxSaltSize); err != nil {
		return nil, err
	}
	if t.Salt != nil && len(t.Salt) == 0 {
		return nil, errors.New("tpm: tpm2_salt is empty")
	}
	if t.SRK, err = b64Field(raw, "tpm2_srk", MaxSRKSize); err != nil {
		return nil, err
	}
	if t.SRK != nil && len(t.SRK) < 4 {
		return nil, errors.New("tpm: tpm2_srk is too short to name a handle")
	}
	if t.PubKey, err = b64Field(raw, "tpm2_pubkey", MaxPubKeySize); err != nil {
		return nil, err
	}
	if t.PubKeyPCRs, err = pcrList(raw, "tpm2_pubkey_pcrs", false); err != nil {
		return nil, err
	}
	if t.PCRValues, err = pcrValues(raw); err != nil {
		return nil, err
	}
	return t, nil
}

func field(raw map[string]json.RawMessage, name string, v any, required bool) error {
	m, ok := raw[name]
	if !ok {
		if required {
			return fmt.Errorf("tpm: token has no %q field", name)
		}
		return nil
	}
	if err := json.Unmarshal(m, v); err != nil {
		return fmt.Errorf("tpm: token field %q: %w", name, err)
	}
	return nil
}

// tokenObject checks the bounds of a LUKS2 token's JSON (MaxTokenJSON bytes, an object of
// at most maxTokenFields fields) and its "type", typ, and returns its fields. what names
// the token in errors.
func tokenObject(data []byte, what, typ string) (map[string]json.RawMessage, error) {
	if len(data) > MaxTokenJSON {
		return nil, fmt.Errorf("tpm: %s JSON is %d bytes, more than the %d allowed", what, len(data), MaxTokenJSON)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("tpm: %s is not a JSON object: %w", what, err)
	}
	if len(raw) > maxTokenFields {
		return nil, fmt.Errorf("tpm: %s has %d fields, more than %d", what, len(raw), maxTokenFields)
	}
	var got string
	if err := field(raw, "type", &got, true); err != nil {
		return nil, err
	}
	if got != typ {
		return nil, fmt.Errorf("tpm: token type is %q, not %q", got, typ)
	}
	return raw, nil
}

// keyslotsField reads the required "keyslots" field of a LUKS2 token: 1 to MaxKeyslot+1
// distinct keyslot numbers, each a decimal string with no leading zero. what names the
// token in errors.
func keyslotsField(raw map[string]json.RawMessage, what string) ([]int, error) {
	var slots []string
	if err := field(raw, "keyslots", &slots, true); err != nil {
		return nil, err
	}
	if len(slots) == 0 || len(slots) > MaxKeyslot+1 {
		return nil, fmt.Errorf("tpm: %s names %d keyslots", what, len(slots))
	}
	var out []int
	seen := map[int]bool{}
	for _, s := range slots {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxKeyslot || strconv.Itoa(n) != s {
			return nil, fmt.Errorf("tpm: %s keyslot %q is not a number 0..%d", what, s, MaxKeyslot)
		}
		if seen[n] {
			return nil, fmt.Errorf("tpm: %s names keyslot %d twice", what, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// stringOrArray reads a required field that is a string or a non-empty array of strings.
func stringOrArray(raw map[string]json.RawMessage, name string) ([]string, error) {
	m, ok := raw[name]
	if !ok {
		return nil, fmt.Errorf("tpm: token has no %q field", name)
	}
	m = bytes.TrimSpace(m)
	if len(m) > 0 && m[0] == '[' {
		var a []string
		if err := json.Unmarshal(m, &a); err != nil {
			return nil, fmt.Errorf("tpm: token field %q: %w", name, err)
		}
		if len(a) == 0 || len(a) > MaxBlobs {
			return nil, fmt.Errorf("tpm: token field %q has %d entries, want 1..%d", name, len(a), MaxBlobs)
		}
		return a, nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		return nil, fmt.Errorf("tpm: token field %q is neither a string nor an array of strings", name)
	}
	return []string{s}, nil
}

func b64Field(raw map[string]json.RawMessage, name string, max int) ([]byte, error) {
	var s *string
	if err := field(raw, name, &s, false); err != nil || s == nil {
		return nil, err
	}
	if base64.StdEncoding.DecodedLen(len(*s)) > max+3 {
		return nil, fmt.Errorf("tpm: token field %q is larger than %d bytes", name, max)
	}
	b, err := base64.StdEncoding.DecodeString(*s)
	if err != nil {
		return nil, fmt.Errorf("tpm: token field %q is not base64: %w", name, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("tpm: token field %q is larger than %d bytes", name, max)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func pcrList(raw map[string]json.RawMessage, name string, required bool) ([]int, error) {
	var a []json.RawMessage
	if err := field(raw, name, &a, required); err != nil {
		return nil, err
	}
	if _, ok := raw[name]; ok && a == nil {
		return nil, fmt.Errorf("tpm: token field %q is not an array", name)
	}
	if len(a) > NumPCRs {
		return nil, fmt.Errorf("tpm: token field %q lists %d PCRs", name, len(a))
	}
	out := []int{}
	seen := map[int]bool{}
	for _, n := range a {
		s := string(bytes.TrimSpace(n))
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= NumPCRs || strconv.Itoa(i) != s {
			return nil, fmt.Errorf("tpm: token field %q: %.10q is not a PCR number 0..%d", name, s, NumPCRs-1)
		}
		if seen[i] {
			return nil, fmt.Errorf("tpm: token field %q lists PCR %d twice", name, i)
		}
		seen[i] = true
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

func pcrValues(raw map[string]json.RawMessage) (map[int][]byte, error) {
	var m map[string]string
	if err := field(raw, pcrValuesField, &m, false); err != nil || m == nil {
		return nil, err
	}
	if len(m) > NumPCRs {
		return nil, fmt.Errorf("tpm: token field %q has %d entries", pcrValuesField, len(m))
	}
	out := make(map[int][]byte, len(m))
	for k, v := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= NumPCRs || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("tpm: token field %q: %q is not a PCR number", pcrValuesField, k)
		}
		if len(v) > 128 {
			return nil, fmt.Errorf("tpm: token field %q: value of PCR %d is too long", pcrValuesField, i)
		}
		b, err := hex.DecodeString(v)
		if err != nil || (len(b) != 32 && len(b) != 20) {
			return nil, fmt.Errorf("tpm: token field %q: value of PCR %d is not a hex sha256/sha1 digest", pcrValuesField, i)
		}
		out[i] = b
	}
	return out, nil
}

const pcrValuesField = "travelkit-pcr-values"

// MarshalJSON writes the token with systemd-cryptenroll's field names and order. The
// single-blob form is written as strings (what every systemd version reads).
func (t *Token) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) string { q, _ := json.Marshal(s); return string(q) }
	ints := func(a []int) string {
		parts := make([]string, len(a))
		for i, v := range a {
			parts[i] = strconv.Itoa(v)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	b.WriteString(`{"type":"` + TokenType + `","keyslots":[`)
	for i, k := range t.Keyslots {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(str(strconv.Itoa(k)))
	}
	b.WriteString(`],"tpm2-blob":`)
	writeList(&b, t.Blobs, base64.StdEncoding.EncodeToString)
	b.WriteString(`,"tpm2-pcrs":` + ints(t.PCRs))
	if t.PCRBank != "" {
		b.WriteString(`,"tpm2-pcr-bank":` + str(t.PCRBank))
	}
	if t.PrimaryAlg != "" {
		b.WriteString(`,"tpm2-primary-alg":` + str(t.PrimaryAlg))
	}
	b.WriteString(`,"tpm2-policy-hash":`)
	writeList(&b, t.PolicyHashes, hex.EncodeToString)
	b.WriteString(`,"tpm2-pin":` + strconv.FormatBool(t.PIN))
	if t.PCRLock {
		b.WriteString(`,"tpm2_pcrlock":true`)
	}
	if len(t.PubKeyPCRs) > 0 {
		b.WriteString(`,"tpm2_pubkey_pcrs":` + ints(t.PubKeyPCRs))
	}
	if t.PubKey != nil {
		b.WriteString(`,"tpm2_pubkey":` + str(base64.StdEncoding.EncodeToString(t.PubKey)))
	}
	if t.Salt != nil {
		b.WriteString(`,"tpm2_salt":` + str(base64.StdEncoding.EncodeToString(t.Salt)))
	}
	if t.SRK != nil {
		b.WriteString(`,"tpm2_srk":` + str(base64.StdEncoding.EncodeToString(t.SRK)))
	}
	if len(t.PCRValues) > 0 {
		keys := make([]int, 0, len(t.PCRValues))
		for k := range t.PCRValues {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		b.WriteString(`,"` + pcrValuesField + `":{`)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(str(strconv.Itoa(k)) + ":" + str(hex.EncodeToString(t.PCRValues[k])))
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeList(b *bytes.Buffer, items [][]byte, enc func([]byte) string) {
	if len(items) == 1 {
		b.WriteString(`"` + enc(items[0]) + `"`)
		return
	}
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + enc(it) + `"`)
	}
	b.WriteByte(']')
}

// SetKeyslot makes the token name keyslot slot only (once the keyslot number is known).
func (t *Token) SetKeyslot(slot int) { t.Keyslots = []int{slot} }

// String describes the binding for people, e.g. "keyslot 1: PCRs 7 (sha256 bank), PIN".
func (t *Token) String() string {
	var b strings.Builder
	for i, k := range t.Keyslots {
		if i == 0 {
			b.WriteString("keyslot ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(k))
	}
	b.WriteString(": ")
	if len(t.PCRs) == 0 {
		b.WriteString("no PCRs")
	} else {
		bank := t.PCRBank
		if bank == "" {
			bank = "sha256"
		}
		b.WriteString(pcrNames(t.PCRs) + " (" + bank + " bank)")
	}
	if t.PIN {
		b.WriteString(", PIN")
	} else {
		b.WriteString(", no PIN")
	}
	if t.SRK != nil {
		b.WriteString(", persistent SRK")
	} else if t.PrimaryAlg != "" {
		b.WriteString(", " + t.PrimaryAlg + " primary key")
	}
	if t.PCRLock || len(t.PubKey) > 0 {
		b.WriteString(", signed/pcrlock policy (not supported by travelkit)")
	}
	return b.String()
}

// JSON returns the token JSON for luks.Container.AddToken.
func (t *Token) JSON() []byte {
	b, _ := t.MarshalJSON()
	return b
}
