package fat32

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
)

// FS is a FAT32 filesystem opened for reading.
type FS struct {
	dev         io.ReaderAt
	size        int64
	bps         int64
	spc         int64
	reservedSec int64
	fatSec      int64
	nfats       int64
	rootCluster uint32
	clusters    uint32
	dataStart   int64
	label       string
	bootLabel   string
	volumeID    uint32
	fat         []uint32
}

// Entry describes a file or directory.
type Entry struct {
	Name    string
	Short   string
	IsDir   bool
	Size    int64
	ModTime time.Time
	Cluster uint32
}

// ErrNotFAT32 is returned when the boot sector does not describe FAT32.
var ErrNotFAT32 = errors.New("fat32: not a FAT32 filesystem")

// maxFATBytes bounds the FAT read into memory (a 2 TiB volume with 32 KiB clusters).
const maxFATBytes = 512 << 20

// Open reads the boot sector and the first FAT of a FAT32 filesystem in a
// partition window of size bytes.
func Open(dev io.ReaderAt, size int64) (*FS, error) {
	b := make([]byte, 512)
	if _, err := dev.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("fat32: read boot sector: %w", err)
	}
	if b[510] != 0x55 || b[511] != 0xAA {
		return nil, fmt.Errorf("%w (no boot signature)", ErrNotFAT32)
	}
	f := &FS{dev: dev, size: size}
	f.bps = int64(binary.LittleEndian.Uint16(b[11:]))
	f.spc = int64(b[13])
	f.reservedSec = int64(binary.LittleEndian.Uint16(b[14:]))
	f.nfats = int64(b[16])
	rootEnts := binary.LittleEndian.Uint16(b[17:])
	tot16 := binary.LittleEndian.Uint16(b[19:])
	fat16 := binary.LittleEndian.Uint16(b[22:])
	total := int64(binary.LittleEndian.Uint32(b[32:]))
	f.fatSec = int64(binary.LittleEndian.Uint32(b[36:]))
	f.rootCluster = binary.LittleEndian.Uint32(b[44:])
	switch f.bps {
	case 512, 1024, 2048, 4096:
	default:
		return nil, fmt.Errorf("%w (bytes per sector %d)", ErrNotFAT32, f.bps)
	}
	if f.spc == 0 || f.spc&(f.spc-1) != 0 || f.spc*f.bps > 64<<10 {
		return nil, fmt.Errorf("%w (sectors per cluster %d)", ErrNotFAT32, f.spc)
	}
	if rootEnts != 0 || tot16 != 0 || fat16 != 0 || f.fatSec == 0 {
		return nil, fmt.Errorf("%w (FAT12/16 fields set)", ErrNotFAT32)
	}
	if f.reservedSec < 1 || f.nfats < 1 || f.nfats > 4 {
		return nil, fmt.Errorf("%w (reserved %d, FATs %d)", ErrNotFAT32, f.reservedSec, f.nfats)
	}
	if total*f.bps > size {
		return nil, fmt.Errorf("fat32: filesystem of %d bytes larger than its partition of %d bytes", total*f.bps, size)
	}
	meta := f.reservedSec + f.nfats*f.fatSec
	if meta >= total {
		return nil, fmt.Errorf("%w (FATs larger than the volume)", ErrNotFAT32)
	}
	f.dataStart = meta * f.bps
	clus := (total - meta) / f.spc
	if clus > maxClusters {
		return nil, fmt.Errorf("%w (%d clusters)", ErrNotFAT32, clus)
	}
	if need := (clus + 2) * 4; need > f.fatSec*f.bps {
		return nil, fmt.Errorf("fat32: FAT of %d bytes too small for %d clusters", f.fatSec*f.bps, clus)
	}
	f.clusters = uint32(clus)
	if f.rootCluster < 2 || f.rootCluster >= f.clusters+2 {
		return nil, fmt.Errorf("fat32: root cluster %d out of range", f.rootCluster)
	}
	if b[66] == 0x29 {
		f.volumeID = binary.LittleEndian.Uint32(b[67:])
		f.bootLabel = strings.TrimRight(string(b[71:82]), " ")
	}
	fatBytes := (int64(f.clusters) + 2) * 4
	if fatBytes > maxFATBytes {
		return nil, fmt.Errorf("fat32: FAT of %d bytes too large", fatBytes)
	}
	raw := make([]byte, fatBytes)
	if _, err := dev.ReadAt(raw, f.reservedSec*f.bps); err != nil {
		return nil, fmt.Errorf("fat32: read FAT: %w", err)
	}
	f.fat = make([]uint32, f.clusters+2)
	for i := range f.fat {
		f.fat[i] = binary.LittleEndian.Uint32(raw[4*i:]) & 0x0FFFFFFF
	}
	// Volume label entry of the root directory.
	ents, err := f.readDirCluster(f.rootCluster, true)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.label {
			f.label = strings.TrimRight(e.Short, " ")
		}
	}
	return f, nil
}

// Label returns the root directory's volume label (what Windows shows),
// or the boot sector's when the root has none.
func (f *FS) Label() string {
	if f.label != "" {
		return f.label
	}
	return f.bootLabel
}

// BootLabel returns the label stored in the boot sector.
func (f *FS) BootLabel() string { return f.bootLabel }

// Clusters returns the cluster count.
func (f *FS) Clusters() uint32 { return f.clusters }

// ClusterSize returns the cluster size in bytes.
func (f *FS) ClusterSize() int64 { return f.spc * f.bps }

// chain returns the cluster chain starting at c, bounded by maxLen clusters.
func (f *FS) chain(c uint32, maxLen int64) ([]uint32, error) {
	var out []uint32
	seen := 0
	for {
		if c < 2 || c >= f.clusters+2 {
			return nil, fmt.Errorf("fat32: cluster %d out of range", c)
		}
		out = append(out, c)
		seen++
		if int64(seen) > maxLen || seen > int(f.clusters) {
			return nil, errors.New("fat32: cluster chain too long (loop?)")
		}
		n := f.fat[c]
		if n >= 0x0FFFFFF8 {
			return out, nil
		}
		if n == 0 || n == 0x0FFFFFF7 {
			return nil, fmt.Errorf("fat32: chain hits free/bad cluster after %d", c)
		}
		c = n
	}
}

func (f *FS) clusterOff(c uint32) int64 {
	return f.dataStart + int64(c-2)*f.ClusterSize()
}

type rawEntry struct {
	Entry
	label bool
}

const maxDirBytes = 2 << 20 // FAT directories hold at most 65536 entries

func (f *FS) readDirCluster(c uint32, root bool) ([]rawEntry, error) {
	cs := f.ClusterSize()
	ch, err := f.chain(c, maxDirBytes/cs+1)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, cs)
	var out []rawEntry
	var lfn []uint16
	var lfnSum byte
	lfnNext := 0
	for _, cl := range ch {
		if _, err := f.dev.ReadAt(buf, f.clusterOff(cl)); err != nil {
			return nil, fmt.Errorf("fat32: read directory cluster %d: %w", cl, err)
		}
		for off := 0; off+dirEntry <= len(buf); off += dirEntry {
			e := buf[off : off+dirEntry]
			if e[0] == 0 {
				return out, nil
			}
			if e[0] == 0xE5 {
				lfn, lfnNext = nil, 0
				continue
			}
			attr := e[11]
			if attr&0x3F == 0x0F {
				seq := int(e[0] & 0x1F)
				if e[0]&0x40 != 0 {
					lfn = make([]uint16, 13*seq)
					lfnSum = e[13]
					lfnNext = seq
				}
				if seq == 0 || seq != lfnNext || e[13] != lfnSum || len(lfn) < 13*seq {
					lfn, lfnNext = nil, 0
					continue
				}
				part := lfn[(seq-1)*13:]
				for i := 0; i < 5; i++ {
					part[i] = binary.LittleEndian.Uint16(e[1+2*i:])
				}
				for i := 0; i < 6; i++ {
					part[5+i] = binary.LittleEndian.Uint16(e[14+2*i:])
				}
				for i := 0; i < 2; i++ {
					part[11+i] = binary.LittleEndian.Uint16(e[28+2*i:])
				}
				lfnNext--
				continue
			}
			var short [11]byte
			copy(short[:], e[:11])
			if short[0] == 0x05 {
				short[0] = 0xE5
			}
			re := rawEntry{}
			re.Short = string(short[:])
			if attr&0x08 != 0 && attr&0x10 == 0 {
				if root {
					re.label = true
					out = append(out, re)
				}
				lfn, lfnNext = nil, 0
				continue
			}
			name := ""
			if lfn != nil && lfnNext == 0 && lfnSum == shortChecksum([11]byte(e[:11])) {
				u := lfn
				for i, c := range u {
					if c == 0 {
						u = u[:i]
						break
					}
				}
				name = string(utf16.Decode(u))
			}
			lfn, lfnNext = nil, 0
			if name == "" {
				base := strings.TrimRight(string(short[:8]), " ")
				ext := strings.TrimRight(string(short[8:]), " ")
				if e[12]&0x08 != 0 {
					base = strings.ToLower(base)
				}
				if e[12]&0x10 != 0 {
					ext = strings.ToLower(ext)
				}
				name = base
				if ext != "" {
					name += "." + ext
				}
			}
			if name == "." || name == ".." {
				continue
			}
			re.Name = name
			re.IsDir = attr&0x10 != 0
			re.Size = int64(binary.LittleEndian.Uint32(e[28:]))
			re.Cluster = uint32(binary.LittleEndian.Uint16(e[20:]))<<16 | uint32(binary.LittleEndian.Uint16(e[26:]))
			d := binary.LittleEndian.Uint16(e[24:])
			t := binary.LittleEndian.Uint16(e[22:])
			re.ModTime = time.Date(1980+int(d>>9), time.Month(d>>5&15), int(d&31), int(t>>11), int(t>>5&63), int(t&31)*2, 0, time.UTC)
			out = append(out, re)
		}
	}
	return out, nil
}

func (f *FS) lookup(p string) (Entry, error) {
	parts := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	cur := Entry{IsDir: true, Cluster: f.rootCluster}
	for i, name := range parts {
		if !cur.IsDir {
			return Entry{}, fmt.Errorf("fat32: %s: not a directory", strings.Join(parts[:i], "/"))
		}
		ents, err := f.readDirCluster(cur.Cluster, cur.Cluster == f.rootCluster)
		if err != nil {
			return Entry{}, err
		}
		found := false
		for _, e := range ents {
			if !e.label && (strings.EqualFold(e.Name, name) || strings.EqualFold(strings.TrimSpace(e.Short), name)) {
				cur, found = e.Entry, true
				break
			}
		}
		if !found {
			return Entry{}, fmt.Errorf("fat32: %s: no such file or directory", strings.Join(parts[:i+1], "/"))
		}
		if cur.IsDir && cur.Cluster == 0 {
			cur.Cluster = f.rootCluster
		}
	}
	return cur, nil
}

// Stat returns the entry at path p ("" or "/" is the root).
func (f *FS) Stat(p string) (Entry, error) { return f.lookup(p) }

// ReadDir lists the directory at path p.
func (f *FS) ReadDir(p string) ([]Entry, error) {
	d, err := f.lookup(p)
	if err != nil {
		return nil, err
	}
	if !d.IsDir {
		return nil, fmt.Errorf("fat32: %s: not a directory", p)
	}
	ents, err := f.readDirCluster(d.Cluster, d.Cluster == f.rootCluster)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		if !e.label {
			out = append(out, e.Entry)
		}
	}
	return out, nil
}

// Open opens the file at path p for reading.
func (f *FS) Open(p string) (io.Reader, int64, error) {
	e, err := f.lookup(p)
	if err != nil {
		return nil, 0, err
	}
	if e.IsDir {
		return nil, 0, fmt.Errorf("fat32: %s is a directory", p)
	}
	if e.Size == 0 {
		return strings.NewReader(""), 0, nil
	}
	cs := f.ClusterSize()
	ch, err := f.chain(e.Cluster, (e.Size+cs-1)/cs)
	if err != nil {
		return nil, 0, fmt.Errorf("fat32: %s: %w", p, err)
	}
	if int64(len(ch))*cs < e.Size {
		return nil, 0, fmt.Errorf("fat32: %s: chain of %d clusters shorter than size %d", p, len(ch), e.Size)
	}
	return &fileReader{f: f, chain: ch, size: e.Size}, e.Size, nil
}

// ReadFile reads a whole file.
func (f *FS) ReadFile(p string) ([]byte, error) {
	r, n, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("fat32: %s: %w", p, err)
	}
	return b, nil
}

type fileReader struct {
	f     *FS
	chain []uint32
	size  int64
	pos   int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	cs := r.f.ClusterSize()
	ci := r.pos / cs
	in := r.pos % cs
	// Merge contiguous clusters into one read.
	run := int64(1)
	for int(ci+run) < len(r.chain) && r.chain[ci+run] == r.chain[ci]+uint32(run) && run*cs-in < int64(len(p)) {
		run++
	}
	n := run*cs - in
	if n > int64(len(p)) {
		n = int64(len(p))
	}
	if n > r.size-r.pos {
		n = r.size - r.pos
	}
	m, err := r.f.dev.ReadAt(p[:n], r.f.clusterOff(r.chain[ci])+in)
	r.pos += int64(m)
	if err == io.EOF && int64(m) == n {
		err = nil
	}
	return m, err
}

// Walk calls fn for every file and directory below the root, depth first,
// with slash-separated paths.
func (f *FS) Walk(fn func(p string, e Entry) error) error {
	return f.walk("", 0, fn)
}

func (f *FS) walk(dir string, depth int, fn func(string, Entry) error) error {
	if depth > 64 {
		return errors.New("fat32: directories nested too deeply (loop?)")
	}
	ents, err := f.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := e.Name
		if dir != "" {
			p = dir + "/" + e.Name
		}
		if err := fn(p, e); err != nil {
			return err
		}
		if e.IsDir {
			if err := f.walk(p, depth+1, fn); err != nil {
				return err
			}
		}
	}
	return nil
}
