package luks

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// Binary header layout (LUKS2 on-disk format, big-endian).
const (
	binHeaderSize = 4096
	offMagic      = 0
	offVersion    = 6
	offHdrSize    = 8
	offSeqid      = 16
	offLabel      = 24
	offCsumAlg    = 72
	offSalt       = 104
	offUUID       = 168
	offSubsystem  = 208
	offHdrOffset  = 256
	offCsum       = 448
	labelLen      = 48
	csumAlgLen    = 32
	saltLen       = 64
	uuidLen       = 40
	csumLen       = 64
)

var (
	magicPrimary   = []byte{'L', 'U', 'K', 'S', 0xba, 0xbe}
	magicSecondary = []byte{'S', 'K', 'U', 'L', 0xba, 0xbe}
)

// MagicLen is how many bytes HasMagic needs.
const MagicLen = 6

// HasMagic reports whether b starts with the magic of a LUKS header (the primary copy of a
// LUKS2 header, or a LUKS1 header), for callers that look for a volume without opening it.
func HasMagic(b []byte) bool { return bytes.HasPrefix(b, magicPrimary) }

// validHeaderSizes are the hdr_size values the format allows (16 KiB .. 4 MiB). They are
// also the offsets where a secondary header may be found.
var validHeaderSizes = []int64{16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20}

func isValidHeaderSize(n uint64) bool {
	for _, v := range validHeaderSizes {
		if uint64(v) == n {
			return true
		}
	}
	return false
}

// binHeader is the fixed part of one header copy.
type binHeader struct {
	secondary bool
	version   uint16
	hdrSize   uint64
	seqid     uint64
	label     string
	csumAlg   string
	salt      [saltLen]byte
	uuid      string
	subsystem string
	hdrOffset uint64
	csum      [csumLen]byte
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseBinHeader decodes the first 4096 bytes of a header copy. It checks the magic and version only.
func parseBinHeader(b []byte) (*binHeader, error) {
	if len(b) < binHeaderSize {
		return nil, io.ErrUnexpectedEOF
	}
	h := &binHeader{}
	switch {
	case bytes.Equal(b[offMagic:offMagic+6], magicPrimary):
	case bytes.Equal(b[offMagic:offMagic+6], magicSecondary):
		h.secondary = true
	default:
		return nil, ErrNotLUKS
	}
	h.version = binary.BigEndian.Uint16(b[offVersion:])
	h.hdrSize = binary.BigEndian.Uint64(b[offHdrSize:])
	h.seqid = binary.BigEndian.Uint64(b[offSeqid:])
	h.label = cstring(b[offLabel : offLabel+labelLen])
	h.csumAlg = cstring(b[offCsumAlg : offCsumAlg+csumAlgLen])
	copy(h.salt[:], b[offSalt:offSalt+saltLen])
	h.uuid = cstring(b[offUUID : offUUID+uuidLen])
	h.subsystem = cstring(b[offSubsystem : offSubsystem+labelLen])
	h.hdrOffset = binary.BigEndian.Uint64(b[offHdrOffset:])
	copy(h.csum[:], b[offCsum:offCsum+csumLen])
	return h, nil
}

// marshal writes the binary header into b[:4096] (checksum field zeroed).
func (h *binHeader) marshal(b []byte) {
	clear(b[:binHeaderSize])
	if h.secondary {
		copy(b[offMagic:], magicSecondary)
	} else {
		copy(b[offMagic:], magicPrimary)
	}
	binary.BigEndian.PutUint16(b[offVersion:], 2)
	binary.BigEndian.PutUint64(b[offHdrSize:], h.hdrSize)
	binary.BigEndian.PutUint64(b[offSeqid:], h.seqid)
	copy(b[offLabel:offLabel+labelLen-1], h.label)
	copy(b[offCsumAlg:offCsumAlg+csumAlgLen-1], h.csumAlg)
	copy(b[offSalt:offSalt+saltLen], h.salt[:])
	copy(b[offUUID:offUUID+uuidLen-1], h.uuid)
	copy(b[offSubsystem:offSubsystem+labelLen-1], h.subsystem)
	binary.BigEndian.PutUint64(b[offHdrOffset:], h.hdrOffset)
}

func checksumHash(alg string) (hash.Hash, error) {
	switch alg {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("checksum algorithm %q is not supported", alg)
}

// headerChecksum computes the checksum over a whole header copy (binary header + JSON area)
// with the checksum field treated as zero.
func headerChecksum(alg string, whole []byte) ([]byte, error) {
	h, err := checksumHash(alg)
	if err != nil {
		return nil, err
	}
	h.Write(whole[:offCsum])
	h.Write(make([]byte, csumLen))
	h.Write(whole[offCsum+csumLen:])
	return h.Sum(nil), nil
}

// headerCopy is one validated copy of the header: binary part, JSON text and parsed metadata.
type headerCopy struct {
	bin  *binHeader
	json []byte // the JSON text, without NUL padding
	md   *metadata
}

// readHeaderCopy reads and validates the copy at offset off on a device of the given size.
func readHeaderCopy(r io.ReaderAt, devSize, off int64, secondary bool) (*headerCopy, error) {
	which := "primary"
	if secondary {
		which = "secondary"
	}
	fail := func(format string, a ...any) error {
		return &CorruptError{Copy: which, Reason: fmt.Sprintf(format, a...)}
	}
	if off+binHeaderSize > devSize {
		return nil, fail("device too small (%d bytes) for a header at offset %d", devSize, off)
	}
	b := make([]byte, binHeaderSize)
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, fail("reading at offset %d: %v", off, err)
	}
	bh, err := parseBinHeader(b)
	if err != nil {
		if err == ErrNotLUKS {
			return nil, fail("no LUKS2 magic at offset %d", off)
		}
		return nil, fail("%v", err)
	}
	if bh.secondary != secondary {
		return nil, fail("wrong magic for the %s copy", which)
	}
	if bh.version != 2 {
		return nil, fail("version %d, expected 2", bh.version)
	}
	if !isValidHeaderSize(bh.hdrSize) {
		return nil, fail("invalid header size %d", bh.hdrSize)
	}
	if bh.hdrOffset != uint64(off) {
		return nil, fail("header offset field %d does not match its position %d", bh.hdrOffset, off)
	}
	size := int64(bh.hdrSize)
	if off+size > devSize {
		return nil, fail("header (%d bytes at %d) extends past the end of the device (%d bytes)", size, off, devSize)
	}
	whole := make([]byte, size)
	if _, err := r.ReadAt(whole, off); err != nil {
		return nil, fail("reading %d bytes at offset %d: %v", size, off, err)
	}
	sum, err := headerChecksum(bh.csumAlg, whole)
	if err != nil {
		return nil, fail("%v", err)
	}
	if !bytes.Equal(sum, bh.csum[:len(sum)]) {
		return nil, fail("checksum mismatch (the header was damaged or modified)")
	}
	js := whole[binHeaderSize:]
	if i := bytes.IndexByte(js, 0); i >= 0 {
		for _, c := range js[i:] {
			if c != 0 {
				return nil, fail("garbage after the JSON metadata")
			}
		}
		js = js[:i]
	}
	md, err := parseMetadata(js)
	if err != nil {
		return nil, fail("JSON metadata: %v", err)
	}
	if err := md.validate(int64(bh.hdrSize), devSize); err != nil {
		return nil, fail("JSON metadata: %v", err)
	}
	return &headerCopy{bin: bh, json: append([]byte(nil), js...), md: md}, nil
}

// encodeHeaderCopy builds the full bytes of a header copy with its checksum.
func encodeHeaderCopy(bh *binHeader, js []byte) ([]byte, error) {
	size := int64(bh.hdrSize)
	if int64(len(js)) >= size-binHeaderSize {
		return nil, fmt.Errorf("metadata JSON (%d bytes) does not fit the %d-byte JSON area: %w", len(js), size-binHeaderSize, ErrNoKeyslotSpace)
	}
	whole := make([]byte, size)
	bh.marshal(whole)
	copy(whole[binHeaderSize:], js)
	sum, err := headerChecksum(bh.csumAlg, whole)
	if err != nil {
		return nil, err
	}
	copy(whole[offCsum:], sum)
	return whole, nil
}
