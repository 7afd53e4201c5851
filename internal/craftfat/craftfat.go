package craftfat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// Device is what a volume lives on (an image file section, a memory buffer).
type Device interface {
	io.ReaderAt
	io.WriterAt
}

// Volume is an open FAT32 volume.
type Volume struct {
	dev        Device
	Bps        int64
	Spc        int64
	reserved   int64
	nfats      int64
	fatSec     int64
	RootClus   uint32
	Clusters   uint32
	dataStart  int64
	nextSearch uint32
}

// Open parses the boot sector of a FAT32 volume.
func Open(dev Device) (*Volume, error) {
	b := make([]byte, 512)
	if _, err := dev.ReadAt(b, 0); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	v := &Volume{dev: dev}
	v.Bps = int64(le.Uint16(b[11:]))
	v.Spc = int64(b[13])
	v.reserved = int64(le.Uint16(b[14:]))
	v.nfats = int64(b[16])
	total := int64(le.Uint32(b[32:]))
	v.fatSec = int64(le.Uint32(b[36:]))
	v.RootClus = le.Uint32(b[44:])
	if v.Bps == 0 || v.Spc == 0 || v.fatSec == 0 {
		return nil, errors.New("craftfat: not FAT32")
	}
	meta := v.reserved + v.nfats*v.fatSec
	v.dataStart = meta * v.Bps
	v.Clusters = uint32((total - meta) / v.Spc)
	v.nextSearch = 2
	return v, nil
}

// ClusterSize is the cluster size in bytes.
func (v *Volume) ClusterSize() int64 { return v.Bps * v.Spc }

// ClusterOffset is the byte offset of cluster c in the volume.
func (v *Volume) ClusterOffset(c uint32) int64 { return v.dataStart + int64(c-2)*v.ClusterSize() }

// FAT returns the entry of cluster c in the first FAT.
func (v *Volume) FAT(c uint32) uint32 {
	var b [4]byte
	v.dev.ReadAt(b[:], v.reserved*v.Bps+4*int64(c))
	return binary.LittleEndian.Uint32(b[:]) & 0x0FFFFFFF
}

// SetFAT sets the entry of cluster c in every FAT copy (copies: which ones, nil for all).
func (v *Volume) SetFAT(c, val uint32, copies ...int) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], val)
	if copies == nil {
		for i := 0; i < int(v.nfats); i++ {
			copies = append(copies, i)
		}
	}
	for _, i := range copies {
		v.dev.WriteAt(b[:], (v.reserved+int64(i)*v.fatSec)*v.Bps+4*int64(c))
	}
}

// Alloc chains n free clusters (in every FAT) and returns them.
func (v *Volume) Alloc(n int) ([]uint32, error) {
	var out []uint32
	for c := v.nextSearch; c < v.Clusters+2 && len(out) < n; c++ {
		if v.FAT(c) == 0 {
			out = append(out, c)
		}
	}
	if len(out) < n {
		return nil, errors.New("craftfat: volume full")
	}
	for i, c := range out {
		next := uint32(0x0FFFFFFF)
		if i+1 < len(out) {
			next = out[i+1]
		}
		v.SetFAT(c, next)
	}
	v.nextSearch = out[len(out)-1] + 1
	return out, nil
}

// WriteChain writes data over the clusters of a chain (zero padded).
func (v *Volume) WriteChain(chain []uint32, data []byte) error {
	cs := v.ClusterSize()
	for i, c := range chain {
		b := make([]byte, cs)
		if int64(i)*cs < int64(len(data)) {
			copy(b, data[int64(i)*cs:])
		}
		if _, err := v.dev.WriteAt(b, v.ClusterOffset(c)); err != nil {
			return err
		}
	}
	return nil
}

// Chain follows the first FAT from c.
func (v *Volume) Chain(c uint32) []uint32 {
	var out []uint32
	for c >= 2 && c < v.Clusters+2 && len(out) <= int(v.Clusters) {
		out = append(out, c)
		c = v.FAT(c)
	}
	return out
}

// Slots returns the byte offsets of every 32-byte slot of the directory at cluster c.
func (v *Volume) Slots(c uint32) []int64 {
	var out []int64
	for _, cl := range v.Chain(c) {
		for o := int64(0); o < v.ClusterSize(); o += 32 {
			out = append(out, v.ClusterOffset(cl)+o)
		}
	}
	return out
}

// Entry reads the 32 bytes at off.
func (v *Volume) Entry(off int64) []byte {
	b := make([]byte, 32)
	v.dev.ReadAt(b, off)
	return b
}

// Find returns the slot offset of the short entry whose 8.3 name (as 11 bytes, e.g.
// "BIN        ") is name11, in the directory at cluster dir.
func (v *Volume) Find(dir uint32, name11 string) (int64, error) {
	for _, off := range v.Slots(dir) {
		e := v.Entry(off)
		if e[0] == 0 {
			break
		}
		if e[11] != 0x0F && string(e[:11]) == name11 {
			return off, nil
		}
	}
	return 0, fmt.Errorf("craftfat: %q not found in the folder at cluster %d", name11, dir)
}

// FirstCluster returns the first cluster named by the short entry at off.
func (v *Volume) FirstCluster(off int64) uint32 {
	e := v.Entry(off)
	return uint32(binary.LittleEndian.Uint16(e[20:]))<<16 | uint32(binary.LittleEndian.Uint16(e[26:]))
}

// Patch writes bytes into the entry at off, at byte pos of the entry.
func (v *Volume) Patch(off int64, pos int, b ...byte) {
	v.dev.WriteAt(b, off+int64(pos))
}

// SetAttr sets the attribute byte of the entry at off.
func (v *Volume) SetAttr(off int64, attr byte) { v.Patch(off, 11, attr) }

// Append writes entries into the directory at cluster dir after its last used slot,
// leaving gap empty (zero) slots before them, chaining zeroed clusters to the directory
// when it is full (as an OS does).
func (v *Volume) Append(dir uint32, gap int, entries ...[]byte) error {
	slots := v.Slots(dir)
	last := -1
	for i, off := range slots {
		if v.Entry(off)[0] != 0 {
			last = i
		}
	}
	at := last + 1 + gap
	for at+len(entries) > len(slots) {
		ch := v.Chain(dir)
		more, err := v.Alloc(1)
		if err != nil {
			return err
		}
		if err := v.WriteChain(more, nil); err != nil {
			return err
		}
		v.SetFAT(ch[len(ch)-1], more[0])
		slots = v.Slots(dir)
	}
	for i, e := range entries {
		if _, err := v.dev.WriteAt(e, slots[at+i]); err != nil {
			return err
		}
	}
	return nil
}

// Short builds a short directory entry. name11 is the 11-byte 8.3 name.
func Short(name11 string, attr byte, cluster, size uint32) []byte {
	if len(name11) != 11 {
		panic("craftfat: short name must be 11 bytes: " + name11)
	}
	e := make([]byte, 32)
	copy(e, name11)
	e[11] = attr
	binary.LittleEndian.PutUint16(e[20:], uint16(cluster>>16))
	binary.LittleEndian.PutUint16(e[26:], uint16(cluster))
	binary.LittleEndian.PutUint32(e[28:], size)
	// 2026-01-01 00:00
	binary.LittleEndian.PutUint16(e[16:], 46<<9|1<<5|1)
	binary.LittleEndian.PutUint16(e[24:], 46<<9|1<<5|1)
	return e
}

// Checksum is the short-name checksum long-name entries carry.
func Checksum(name11 string) byte {
	var s byte
	for i := 0; i < 11; i++ {
		s = (s>>1 | s<<7) + name11[i]
	}
	return s
}

// Long builds the long-name entries (in disk order) for long, attached to name11.
func Long(long, name11 string) [][]byte {
	u := utf16.Encode([]rune(long))
	n := (len(u) + 12) / 13
	buf := make([]uint16, n*13)
	for i := range buf {
		buf[i] = 0xFFFF
	}
	copy(buf, u)
	if len(u) < len(buf) {
		buf[len(u)] = 0
	}
	var out [][]byte
	for seq := n; seq >= 1; seq-- {
		e := make([]byte, 32)
		e[0] = byte(seq)
		if seq == n {
			e[0] |= 0x40
		}
		e[11] = 0x0F
		e[13] = Checksum(name11)
		ch := buf[(seq-1)*13:]
		for i := 0; i < 5; i++ {
			binary.LittleEndian.PutUint16(e[1+2*i:], ch[i])
		}
		for i := 0; i < 6; i++ {
			binary.LittleEndian.PutUint16(e[14+2*i:], ch[5+i])
		}
		for i := 0; i < 2; i++ {
			binary.LittleEndian.PutUint16(e[28+2*i:], ch[11+i])
		}
		out = append(out, e)
	}
	return out
}

// Name11 pads an 8.3 name ("BIN", "URGENT~1.TXT") to its 11-byte form.
func Name11(s string) string {
	base, ext, _ := strings.Cut(s, ".")
	return fmt.Sprintf("%-8s%-3s", base, ext)
}

// AddFile stores data in new clusters and appends its entries (a long name when long is
// not "") to the directory at cluster dir, after gap empty slots. It returns the first
// cluster.
func (v *Volume) AddFile(dir uint32, name11, long string, attr byte, data []byte, gap int) (uint32, error) {
	var first uint32
	if len(data) > 0 {
		n := (int64(len(data)) + v.ClusterSize() - 1) / v.ClusterSize()
		ch, err := v.Alloc(int(n))
		if err != nil {
			return 0, err
		}
		if err := v.WriteChain(ch, data); err != nil {
			return 0, err
		}
		first = ch[0]
	}
	var ents [][]byte
	if long != "" {
		ents = Long(long, name11)
	}
	ents = append(ents, Short(name11, attr, first, uint32(len(data))))
	return first, v.Append(dir, gap, ents...)
}

// AddDir makes a new empty folder (with "." and "..") in the directory at cluster dir
// and returns its cluster. parent is dir's cluster as ".." records it (0 for the root).
func (v *Volume) AddDir(dir, parent uint32, name11, long string, attr byte) (uint32, error) {
	ch, err := v.Alloc(1)
	if err != nil {
		return 0, err
	}
	c := ch[0]
	body := append(Short(".          ", 0x10, c, 0), Short("..         ", 0x10, parent, 0)...)
	if err := v.WriteChain(ch, body); err != nil {
		return 0, err
	}
	var ents [][]byte
	if long != "" {
		ents = Long(long, name11)
	}
	ents = append(ents, Short(name11, attr, c, 0))
	return c, v.Append(dir, 0, ents...)
}
