package luks

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// LUKS1 phdr layout (big-endian, 592 bytes).
const (
	l1CipherName  = 8
	l1CipherMode  = 40
	l1HashSpec    = 72
	l1PayloadOff  = 104
	l1KeyBytes    = 108
	l1MKDigest    = 112
	l1MKSalt      = 132
	l1MKIter      = 164
	l1UUID        = 168
	l1Keyslots    = 208
	l1KeyslotSize = 48
	l1NumKeyslots = 8
	l1HeaderSize  = l1Keyslots + l1NumKeyslots*l1KeyslotSize
	l1Active      = 0x00AC71F3
)

// OpenLUKS1 opens a LUKS1 volume for reading: unlocking with a passphrase, checking a
// volume key and the decrypted payload. Its header is mapped onto the LUKS2 model in
// memory, as `cryptsetup convert` would; travelkit never writes a LUKS1 header (every
// change refuses), so nothing on the device changes. Only aes-xts-plain64 is supported.
func OpenLUKS1(dev io.ReaderAt, size int64) (*Container, error) {
	b := make([]byte, l1HeaderSize)
	if size < l1HeaderSize {
		return nil, ErrNotLUKS
	}
	if _, err := dev.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("reading the LUKS1 header: %w", err)
	}
	if !bytes.Equal(b[:6], magicPrimary) || binary.BigEndian.Uint16(b[6:]) != 1 {
		return nil, ErrNotLUKS
	}
	fail := func(format string, a ...any) error {
		return &CorruptError{Copy: "LUKS1", Reason: fmt.Sprintf(format, a...)}
	}
	cipher, mode, hash := cstring(b[l1CipherName:l1CipherName+32]), cstring(b[l1CipherMode:l1CipherMode+32]), cstring(b[l1HashSpec:l1HashSpec+32])
	if cipher != "aes" || mode != "xts-plain64" {
		return nil, &UnsupportedError{What: fmt.Sprintf("LUKS1 cipher %s-%s (travelkit reads aes-xts-plain64)", cipher, mode)}
	}
	if !validHash(hash) {
		return nil, &UnsupportedError{What: fmt.Sprintf("LUKS1 hash %q", hash)}
	}
	keyBytes := int(binary.BigEndian.Uint32(b[l1KeyBytes:]))
	if !validXTSKeySize(keyBytes) {
		return nil, fail("key size %d bytes is not 32 or 64", keyBytes)
	}
	payload := int64(binary.BigEndian.Uint32(b[l1PayloadOff:])) * 512
	mkIter := int(binary.BigEndian.Uint32(b[l1MKIter:]))
	if mkIter < 1 || mkIter > maxPBKDF2Iter {
		return nil, fail("digest iterations %d out of range", mkIter)
	}
	seg := &segment{Type: "crypt", Offset: u64s(payload), Size: "dynamic", Encryption: "aes-xts-plain64", SectorSize: 512}
	dg := &digest{Type: "pbkdf2", Segments: []string{"0"}, Hash: hash, Iterations: mkIter,
		Salt:   base64.StdEncoding.EncodeToString(b[l1MKSalt : l1MKSalt+32]),
		Digest: base64.StdEncoding.EncodeToString(b[l1MKDigest : l1MKDigest+20])}
	md := &metadata{Keyslots: map[string]*keyslot{}, Tokens: map[string]json.RawMessage{}, Segments: map[string]*segment{"0": seg}, Digests: map[string]*digest{"0": dg}}
	for i := 0; i < l1NumKeyslots; i++ {
		k := b[l1Keyslots+i*l1KeyslotSize:]
		if binary.BigEndian.Uint32(k) != l1Active {
			continue
		}
		iter := int(binary.BigEndian.Uint32(k[4:]))
		off := int64(binary.BigEndian.Uint32(k[40:])) * 512
		stripes := int(binary.BigEndian.Uint32(k[44:]))
		if iter < 1 || iter > maxPBKDF2Iter || stripes != luksStripes || off < l1HeaderSize || off+int64(keyBytes*stripes) > payload {
			return nil, fail("keyslot %d is malformed (iterations %d, stripes %d, offset %d)", i, iter, stripes, off)
		}
		id := strconv.Itoa(i)
		md.Keyslots[id] = &keyslot{Type: "luks2", KeySize: keyBytes,
			AF:   af{Type: "luks1", Stripes: stripes, Hash: hash},
			Area: area{Type: "raw", Offset: u64s(off), Size: u64s((int64(keyBytes*stripes) + 511) / 512 * 512), Encryption: "aes-xts-plain64", KeySize: keyBytes},
			KDF:  kdf{Type: "pbkdf2", Hash: hash, Iterations: iter, Salt: base64.StdEncoding.EncodeToString(k[8:40])}}
		dg.Keyslots = append(dg.Keyslots, id)
	}
	c := &Container{dev: dev, size: size, md: md, luks1: true,
		bin:   binHeader{version: 1, uuid: cstring(b[l1UUID : l1UUID+uuidLen]), csumAlg: "sha256"},
		state: HeaderState{UsedCopy: "primary", InSync: true}}
	return c, nil
}

// Version is the LUKS version of the header: 2, or 1 for a volume opened with OpenLUKS1.
func (c *Container) Version() int {
	if c.luks1 {
		return 1
	}
	return 2
}
