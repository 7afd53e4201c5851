package gpt

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// GUID is a GUID in its on-disk (mixed-endian) byte order.
type GUID [16]byte

// Well-known partition type GUIDs.
var (
	// TypeMicrosoftBasicData is "Microsoft basic data" (FAT, NTFS, exFAT).
	TypeMicrosoftBasicData = MustParseGUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")
	// TypeLinuxLUKS is "Linux LUKS" (Discoverable Partitions Specification).
	TypeLinuxLUKS = MustParseGUID("CA7D7CCB-63ED-4C53-861C-1742536059CC")
	// TypeLinuxFilesystem is "Linux filesystem data".
	TypeLinuxFilesystem = MustParseGUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")
)

// ParseGUID parses the textual form XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	parts := strings.Split(s, "-")
	if len(parts) != 5 || len(parts[0]) != 8 || len(parts[1]) != 4 || len(parts[2]) != 4 || len(parts[3]) != 4 || len(parts[4]) != 12 {
		return g, fmt.Errorf("gpt: bad GUID %q", s)
	}
	b, err := hex.DecodeString(strings.Join(parts, ""))
	if err != nil {
		return g, fmt.Errorf("gpt: bad GUID %q: %v", s, err)
	}
	// First three fields are stored little-endian.
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:])
	return g, nil
}

// MustParseGUID is ParseGUID that panics on error.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// RandomGUID returns a random (version 4) GUID.
func RandomGUID() GUID {
	var g GUID
	if _, err := rand.Read(g[:]); err != nil {
		panic(err)
	}
	g[7] = g[7]&0x0f | 0x40 // version 4 (byte 7 holds the high byte of field 3)
	g[8] = g[8]&0x3f | 0x80
	return g
}

// String returns the canonical upper-case textual form.
func (g GUID) String() string {
	b := []byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6]}
	b = append(b, g[8:]...)
	h := strings.ToUpper(hex.EncodeToString(b))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// IsZero reports whether g is all zero (an unused entry).
func (g GUID) IsZero() bool { return g == GUID{} }

// Partition is one GPT entry. First and Last are inclusive LBAs.
type Partition struct {
	Index      int // 1-based entry number
	Type       GUID
	ID         GUID
	Name       string
	First      uint64
	Last       uint64
	Attributes uint64
}

// Table is a partition table of a disk.
type Table struct {
	SectorSize  int
	Sectors     uint64 // disk size in sectors
	DiskGUID    GUID
	FirstUsable uint64
	LastUsable  uint64
	NumEntries  uint32
	Partitions  []Partition
}

// Offset returns the partition's byte offset on the disk.
func (t *Table) Offset(p Partition) int64 { return int64(p.First) * int64(t.SectorSize) }

// Length returns the partition's size in bytes.
func (t *Table) Length(p Partition) int64 {
	return int64(p.Last-p.First+1) * int64(t.SectorSize)
}

// Spec asks for one partition in Layout. Size 0 means "the rest of the disk"
// (only for the last partition).
type Spec struct {
	Type GUID
	Name string
	Size int64
}

const (
	entrySize  = 128
	numEntries = 128
	headerSize = 92
	// Align is the partition alignment in bytes.
	Align = 1 << 20
)

// Layout plans a table for a disk of size bytes: partitions in order, each
// starting on a 1 MiB boundary; a partition with Size 0 (the last) ends at
// the last usable sector.
func Layout(size int64, sectorSize int, specs []Spec) (*Table, error) {
	if sectorSize != 512 && sectorSize != 4096 {
		return nil, fmt.Errorf("gpt: sector size %d not supported (512 or 4096)", sectorSize)
	}
	if len(specs) == 0 || len(specs) > numEntries {
		return nil, fmt.Errorf("gpt: need 1..%d partitions, got %d", numEntries, len(specs))
	}
	ss := int64(sectorSize)
	sectors := uint64(size / ss)
	arraySectors := uint64((numEntries*entrySize + sectorSize - 1) / sectorSize)
	t := &Table{
		SectorSize:  sectorSize,
		Sectors:     sectors,
		DiskGUID:    RandomGUID(),
		FirstUsable: 2 + arraySectors,
		NumEntries:  numEntries,
	}
	if sectors < 2*(2+arraySectors)+1 {
		return nil, fmt.Errorf("gpt: disk of %d bytes is too small", size)
	}
	t.LastUsable = sectors - 2 - arraySectors
	alignS := uint64(Align / ss)
	next := alignS // first partition at 1 MiB
	for i, s := range specs {
		if s.Type.IsZero() {
			return nil, fmt.Errorf("gpt: partition %d has no type", i+1)
		}
		if len(utf16.Encode([]rune(s.Name))) > 36 {
			return nil, fmt.Errorf("gpt: partition name %q longer than 36 UTF-16 units", s.Name)
		}
		first := (next + alignS - 1) / alignS * alignS
		var last uint64
		switch {
		case s.Size < 0:
			return nil, fmt.Errorf("gpt: partition %d has negative size", i+1)
		case s.Size == 0:
			if i != len(specs)-1 {
				return nil, fmt.Errorf("gpt: only the last partition may take the rest of the disk")
			}
			last = t.LastUsable
		default:
			n := uint64(s.Size) / uint64(ss)
			if n == 0 {
				return nil, fmt.Errorf("gpt: partition %d size %d below one sector", i+1, s.Size)
			}
			last = first + n - 1
		}
		if first > t.LastUsable || last > t.LastUsable || last < first {
			return nil, fmt.Errorf("gpt: partitions do not fit on a disk of %d bytes (partition %d needs up to sector %d, last usable is %d)",
				size, i+1, last, t.LastUsable)
		}
		t.Partitions = append(t.Partitions, Partition{
			Index: i + 1, Type: s.Type, ID: RandomGUID(), Name: s.Name, First: first, Last: last,
		})
		next = last + 1
	}
	return t, nil
}

func putGUID(b []byte, g GUID) { copy(b, g[:]) }

func (t *Table) entries() ([]byte, error) {
	arr := make([]byte, int(t.NumEntries)*entrySize)
	for _, p := range t.Partitions {
		if p.Index < 1 || p.Index > int(t.NumEntries) {
			return nil, fmt.Errorf("gpt: partition index %d out of range", p.Index)
		}
		e := arr[(p.Index-1)*entrySize:][:entrySize]
		putGUID(e[0:], p.Type)
		putGUID(e[16:], p.ID)
		binary.LittleEndian.PutUint64(e[32:], p.First)
		binary.LittleEndian.PutUint64(e[40:], p.Last)
		binary.LittleEndian.PutUint64(e[48:], p.Attributes)
		u := utf16.Encode([]rune(p.Name))
		if len(u) > 36 {
			return nil, fmt.Errorf("gpt: partition name %q too long", p.Name)
		}
		for i, c := range u {
			binary.LittleEndian.PutUint16(e[56+2*i:], c)
		}
	}
	return arr, nil
}

func (t *Table) header(current, backup, entriesLBA uint64, arrCRC uint32) []byte {
	h := make([]byte, t.SectorSize)
	copy(h, "EFI PART")
	binary.LittleEndian.PutUint32(h[8:], 0x00010000)
	binary.LittleEndian.PutUint32(h[12:], headerSize)
	binary.LittleEndian.PutUint64(h[24:], current)
	binary.LittleEndian.PutUint64(h[32:], backup)
	binary.LittleEndian.PutUint64(h[40:], t.FirstUsable)
	binary.LittleEndian.PutUint64(h[48:], t.LastUsable)
	putGUID(h[56:], t.DiskGUID)
	binary.LittleEndian.PutUint64(h[72:], entriesLBA)
	binary.LittleEndian.PutUint32(h[80:], t.NumEntries)
	binary.LittleEndian.PutUint32(h[84:], entrySize)
	binary.LittleEndian.PutUint32(h[88:], arrCRC)
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:headerSize]))
	return h
}

func (t *Table) protectiveMBR() []byte {
	m := make([]byte, t.SectorSize)
	e := m[446:]
	e[0] = 0x00
	e[1], e[2], e[3] = 0x00, 0x02, 0x00 // CHS of LBA 1
	e[4] = 0xEE
	e[5], e[6], e[7] = 0xFF, 0xFF, 0xFF
	binary.LittleEndian.PutUint32(e[8:], 1)
	n := t.Sectors - 1
	if n > 0xFFFFFFFF {
		n = 0xFFFFFFFF
	}
	binary.LittleEndian.PutUint32(e[12:], uint32(n))
	m[510], m[511] = 0x55, 0xAA
	return m
}

// Write writes the protective MBR, the backup entry array and header, then
// the primary entry array and header (the primary header last, so a torn
// write leaves a valid backup).
func Write(dev io.WriterAt, t *Table) error {
	arr, err := t.entries()
	if err != nil {
		return err
	}
	if err := t.check(); err != nil {
		return err
	}
	ss := int64(t.SectorSize)
	arrCRC := crc32.ChecksumIEEE(arr)
	arrSectors := uint64((len(arr) + t.SectorSize - 1) / t.SectorSize)
	last := t.Sectors - 1
	backupEntries := last - arrSectors
	padded := make([]byte, int(arrSectors)*t.SectorSize)
	copy(padded, arr)
	writes := []struct {
		lba uint64
		b   []byte
	}{
		{0, t.protectiveMBR()},
		{backupEntries, padded},
		{last, t.header(last, 1, backupEntries, arrCRC)},
		{2, padded},
		{1, t.header(1, last, 2, arrCRC)},
	}
	for _, w := range writes {
		if _, err := dev.WriteAt(w.b, int64(w.lba)*ss); err != nil {
			return fmt.Errorf("gpt: write at LBA %d: %w", w.lba, err)
		}
	}
	return nil
}

func (t *Table) check() error {
	for i, p := range t.Partitions {
		if p.First < t.FirstUsable || p.Last > t.LastUsable || p.Last < p.First {
			return fmt.Errorf("gpt: partition %d [%d,%d] outside usable [%d,%d]", p.Index, p.First, p.Last, t.FirstUsable, t.LastUsable)
		}
		for _, q := range t.Partitions[:i] {
			if q.Index == p.Index {
				return fmt.Errorf("gpt: duplicate partition index %d", p.Index)
			}
			if p.First <= q.Last && q.First <= p.Last {
				return fmt.Errorf("gpt: partitions %d and %d overlap", q.Index, p.Index)
			}
		}
	}
	return nil
}

// ErrNoGPT means neither GPT header is valid.
var ErrNoGPT = errors.New("gpt: no valid GPT found")

// Read reads the table of a disk of size bytes with the given logical sector
// size, validating header and entry-array CRCs and bounds. It uses the primary
// header, or the backup when the primary is damaged.
func Read(dev io.ReaderAt, size int64, sectorSize int) (*Table, error) {
	if sectorSize != 512 && sectorSize != 4096 {
		return nil, fmt.Errorf("gpt: sector size %d not supported", sectorSize)
	}
	sectors := uint64(size / int64(sectorSize))
	if sectors < 3 {
		return nil, ErrNoGPT
	}
	t, perr := readAt(dev, sectors, sectorSize, 1)
	if perr == nil {
		return t, nil
	}
	t, berr := readAt(dev, sectors, sectorSize, sectors-1)
	if berr == nil {
		return t, nil
	}
	return nil, fmt.Errorf("%w (primary: %v; backup: %v)", ErrNoGPT, perr, berr)
}

func readAt(dev io.ReaderAt, sectors uint64, ss int, lba uint64) (*Table, error) {
	h := make([]byte, ss)
	if _, err := dev.ReadAt(h, int64(lba)*int64(ss)); err != nil {
		return nil, err
	}
	if string(h[:8]) != "EFI PART" {
		return nil, errors.New("no signature")
	}
	hs := binary.LittleEndian.Uint32(h[12:])
	if hs < headerSize || int(hs) > ss {
		return nil, fmt.Errorf("bad header size %d", hs)
	}
	want := binary.LittleEndian.Uint32(h[16:])
	hc := append([]byte(nil), h[:hs]...)
	binary.LittleEndian.PutUint32(hc[16:], 0)
	if crc32.ChecksumIEEE(hc) != want {
		return nil, errors.New("header CRC mismatch")
	}
	if cur := binary.LittleEndian.Uint64(h[24:]); cur != lba {
		return nil, fmt.Errorf("header says it is at LBA %d, read at %d", cur, lba)
	}
	t := &Table{SectorSize: ss, Sectors: sectors}
	t.FirstUsable = binary.LittleEndian.Uint64(h[40:])
	t.LastUsable = binary.LittleEndian.Uint64(h[48:])
	copy(t.DiskGUID[:], h[56:72])
	entLBA := binary.LittleEndian.Uint64(h[72:])
	n := binary.LittleEndian.Uint32(h[80:])
	es := binary.LittleEndian.Uint32(h[84:])
	arrCRC := binary.LittleEndian.Uint32(h[88:])
	if es < entrySize || es > 4096 || es%8 != 0 || n == 0 || n > 4096 {
		return nil, fmt.Errorf("bad entry array geometry (%d entries of %d bytes)", n, es)
	}
	arrBytes := uint64(n) * uint64(es)
	arrSectors := (arrBytes + uint64(ss) - 1) / uint64(ss)
	if t.FirstUsable > t.LastUsable || t.LastUsable >= sectors || t.FirstUsable < 2 {
		return nil, fmt.Errorf("bad usable range [%d,%d] on %d sectors", t.FirstUsable, t.LastUsable, sectors)
	}
	if entLBA < 2 || entLBA+arrSectors > sectors || (entLBA < t.FirstUsable && entLBA+arrSectors > t.FirstUsable) ||
		(entLBA >= t.FirstUsable && entLBA <= t.LastUsable) {
		return nil, fmt.Errorf("entry array at LBA %d out of bounds", entLBA)
	}
	arr := make([]byte, arrBytes)
	if _, err := dev.ReadAt(arr, int64(entLBA)*int64(ss)); err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(arr) != arrCRC {
		return nil, errors.New("entry array CRC mismatch")
	}
	t.NumEntries = n
	for i := uint32(0); i < n; i++ {
		e := arr[uint64(i)*uint64(es):][:entrySize]
		var p Partition
		copy(p.Type[:], e[0:16])
		if p.Type.IsZero() {
			continue
		}
		copy(p.ID[:], e[16:32])
		p.Index = int(i) + 1
		p.First = binary.LittleEndian.Uint64(e[32:])
		p.Last = binary.LittleEndian.Uint64(e[40:])
		p.Attributes = binary.LittleEndian.Uint64(e[48:])
		u := make([]uint16, 0, 36)
		for j := 0; j < 36; j++ {
			c := binary.LittleEndian.Uint16(e[56+2*j:])
			if c == 0 {
				break
			}
			u = append(u, c)
		}
		p.Name = string(utf16.Decode(u))
		t.Partitions = append(t.Partitions, p)
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}
