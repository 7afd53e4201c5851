package tpm

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// PCRRecordType is the LUKS2 token type of a PCRRecord. systemd and cryptsetup ignore
// token types they do not know (cryptsetup only checks "type" and "keyslots").
const PCRRecordType = "travelkit-tpm2-pcrs"

// PCRRecord is the PCR values a TPM binding was made with, kept next to the systemd-tpm2
// token (as a LUKS2 token of type PCRRecordType naming the same keyslot) so that a PCR
// mismatch can name the PCRs that changed. PCR values are not secret: they are measurements
// of the boot chain. The record is only ever used to explain a refusal.
type PCRRecord struct {
	Keyslots []int
	Bank     string // "sha256"
	Values   map[int][]byte
}

// JSON returns the record as LUKS2 token JSON.
func (r *PCRRecord) JSON() []byte {
	var b strings.Builder
	b.WriteString(`{"type":"` + PCRRecordType + `","keyslots":[`)
	for i, k := range r.Keyslots {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strconv.Itoa(k) + `"`)
	}
	bank := r.Bank
	if bank == "" {
		bank = "sha256"
	}
	b.WriteString(`],"tpm2-pcr-bank":"` + bank + `","tpm2-pcr-values":{`)
	keys := make([]int, 0, len(r.Values))
	for k := range r.Values {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strconv.Itoa(k) + `":"` + hex.EncodeToString(r.Values[k]) + `"`)
	}
	b.WriteString("}}")
	return []byte(b.String())
}

// ParsePCRRecord parses and validates a PCRRecord token.
func ParsePCRRecord(data []byte) (*PCRRecord, error) {
	raw, err := tokenObject(data, "PCR record", PCRRecordType)
	if err != nil {
		return nil, err
	}
	r := &PCRRecord{}
	if r.Keyslots, err = keyslotsField(raw, "PCR record"); err != nil {
		return nil, err
	}
	if err := field(raw, "tpm2-pcr-bank", &r.Bank, true); err != nil {
		return nil, err
	}
	if r.Bank != "sha256" && r.Bank != "sha1" {
		return nil, fmt.Errorf("tpm: PCR record bank %q", r.Bank)
	}
	var m map[string]string
	if err := field(raw, "tpm2-pcr-values", &m, true); err != nil {
		return nil, err
	}
	if len(m) > NumPCRs {
		return nil, fmt.Errorf("tpm: PCR record has %d values", len(m))
	}
	size := 32
	if r.Bank == "sha1" {
		size = 20
	}
	r.Values = make(map[int][]byte, len(m))
	for k, v := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= NumPCRs || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("tpm: PCR record: %.10q is not a PCR number", k)
		}
		if len(v) != 2*size {
			return nil, fmt.Errorf("tpm: PCR record: value of PCR %d is not a %s digest", i, r.Bank)
		}
		b, err := hex.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("tpm: PCR record: value of PCR %d is not hex", i)
		}
		r.Values[i] = b
	}
	return r, nil
}

// Applies tells whether the record belongs to tok: same keyslots and bank.
func (r *PCRRecord) Applies(tok *Token) bool {
	bank := tok.PCRBank
	if bank == "" {
		bank = "sha256"
	}
	if r.Bank != bank || len(r.Keyslots) != len(tok.Keyslots) {
		return false
	}
	for i := range r.Keyslots {
		if r.Keyslots[i] != tok.Keyslots[i] {
			return false
		}
	}
	return true
}
