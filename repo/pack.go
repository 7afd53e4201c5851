package repo

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PackedBlob is one blob's place in a pack file.
type PackedBlob struct {
	BlobHandle
	PackID ID
	Offset uint32
	Length uint32 // stored (encrypted) length
	// UncompressedLength is the plaintext length of a compressed blob, 0 if
	// the blob is stored uncompressed.
	UncompressedLength uint32
}

// PlainLength is the length of the blob's plaintext.
func (b PackedBlob) PlainLength() uint32 {
	if b.UncompressedLength != 0 {
		return b.UncompressedLength
	}
	if b.Length < Overhead {
		return 0
	}
	return b.Length - Overhead
}

// Header entry sizes: type, length, [uncompressed length,] ID.
const (
	plainEntrySize      = 1 + 4 + 32
	compressedEntrySize = 1 + 4 + 4 + 32
	// maxHeaderSize bounds what a pack header may claim.
	maxHeaderSize = 16 << 20
)

// packer collects encrypted blobs of one type for one pack file. Space for a
// blob is reserved under the saver's lock and sealed into it without the lock,
// so several savers encrypt into one pack at once; the pack is shipped when
// it is full and its last writer is done.
type packer struct {
	buf     []byte
	blobs   []PackedBlob
	hdr     int  // encrypted header size with the blobs so far
	writers int  // reservations not yet sealed
	full    bool // takes no more blobs; ship when writers is 0
	// stream is set instead of buf for a pack already written to the storage
	stream *streamPack
}

func entrySize(ulen uint32) int {
	if ulen != 0 {
		return compressedEntrySize
	}
	return plainEntrySize
}

func (p *packer) add(h BlobHandle, sealed []byte, ulen int) {
	off := p.reserve(h, len(sealed), ulen)
	copy(p.buf[off:], sealed)
}

// reserve makes room for a sealed blob of n bytes and returns its offset.
func (p *packer) reserve(h BlobHandle, n, ulen int) int {
	if p.hdr == 0 {
		p.hdr = Overhead + 4
	}
	off := len(p.buf)
	if cap(p.buf) < off+n {
		p.buf = append(p.buf, make([]byte, n)...)
	} else {
		p.buf = p.buf[:off+n] // sealed over entirely: no need to clear
	}
	p.blobs = append(p.blobs, PackedBlob{BlobHandle: h, Offset: uint32(off),
		Length: uint32(n), UncompressedLength: uint32(ulen)})
	p.hdr += entrySize(uint32(ulen))
	return off
}

func (p *packer) headerSize() int {
	if p.hdr == 0 {
		return Overhead + 4
	}
	return p.hdr
}

func (p *packer) size() int { return len(p.buf) + p.headerSize() }

// finish appends the encrypted header and its length, and returns the pack bytes.
func (p *packer) finish(k *Key) []byte {
	hdr := packHeader(p.blobs)
	n := len(p.buf)
	p.buf = k.Seal(p.buf, hdr)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(p.buf)-n))
	return p.buf
}

// packHeader is the plaintext header listing blobs.
func packHeader(blobs []PackedBlob) []byte {
	n := 0
	for _, b := range blobs {
		n += entrySize(b.UncompressedLength)
	}
	hdr := make([]byte, 0, n)
	for _, b := range blobs {
		t := byte(0)
		if b.Type == TreeBlob {
			t = 1
		}
		if b.UncompressedLength != 0 {
			hdr = append(hdr, t+2)
			hdr = binary.LittleEndian.AppendUint32(hdr, b.Length)
			hdr = binary.LittleEndian.AppendUint32(hdr, b.UncompressedLength)
		} else {
			hdr = append(hdr, t)
			hdr = binary.LittleEndian.AppendUint32(hdr, b.Length)
		}
		hdr = append(hdr, b.ID[:]...)
	}
	return hdr
}

// PackError describes a damaged pack file.
type PackError struct {
	Pack ID
	Err  error
}

func (e *PackError) Error() string { return fmt.Sprintf("pack %s: %v", e.Pack, e.Err) }
func (e *PackError) Unwrap() error { return e.Err }

// headerLength reads the trailing header length of a pack of size bytes and
// checks it is plausible.
func headerLength(tail []byte, size int64) (int, error) {
	if len(tail) < 4 {
		return 0, errors.New("file too short")
	}
	hl := int64(binary.LittleEndian.Uint32(tail[len(tail)-4:]))
	switch {
	case hl < Overhead+plainEntrySize:
		return 0, fmt.Errorf("header length %d too small", hl)
	case hl+4 > size:
		return 0, fmt.Errorf("header length %d larger than the file (%d bytes)", hl, size)
	case hl > maxHeaderSize:
		return 0, fmt.Errorf("header length %d too large", hl)
	}
	return int(hl), nil
}

// parsePackHeader decrypts and parses the header at the end of pack data
// (data may be the whole pack or just its tail of hdrLen+4 bytes).
func parsePackHeader(k *Key, packID ID, data []byte, size int64) ([]PackedBlob, error) {
	hl, err := headerLength(data, size)
	if err != nil {
		return nil, err
	}
	if len(data) < hl+4 {
		return nil, errors.New("short header read")
	}
	hdr, err := k.Open(nil, data[len(data)-4-hl:len(data)-4])
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var blobs []PackedBlob
	var off int64
	hdrStart := size - int64(hl) - 4
	for len(hdr) > 0 {
		var b PackedBlob
		b.PackID = packID
		t := hdr[0]
		es := plainEntrySize
		if t >= 2 {
			es = compressedEntrySize
		}
		if len(hdr) < es {
			return nil, errors.New("header: truncated entry")
		}
		switch t {
		case 0, 2:
			b.Type = DataBlob
		case 1, 3:
			b.Type = TreeBlob
		default:
			return nil, fmt.Errorf("header: invalid blob type %d", t)
		}
		b.Length = binary.LittleEndian.Uint32(hdr[1:5])
		p := hdr[5:]
		if t >= 2 {
			b.UncompressedLength = binary.LittleEndian.Uint32(p[:4])
			p = p[4:]
			if b.UncompressedLength == 0 {
				return nil, errors.New("header: compressed blob with zero length")
			}
		}
		copy(b.ID[:], p[:32])
		if b.Length < Overhead {
			return nil, fmt.Errorf("header: blob %s too short", b.ID.Str())
		}
		b.Offset = uint32(off)
		off += int64(b.Length)
		if off > hdrStart {
			return nil, errors.New("header: blobs extend past the header")
		}
		blobs = append(blobs, b)
		hdr = hdr[es:]
	}
	return blobs, nil
}
