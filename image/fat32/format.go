package fat32

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf16"
)

const (
	sectorSize = 512
	reserved   = 32
	numFATs    = 2
	// MinClusters is the least cluster count of a FAT32 volume: with fewer,
	// Windows (and the spec) treat the volume as FAT16.
	MinClusters = 65525
	maxClusters = 0x0FFFFFF5
	// Sectors of the reserved region travelkit fills (BPB_FSInfo, BPB_BkBootSec).
	fsInfoSector     = 1
	backupBootSector = 6
)

// MinSize is the smallest partition (in bytes) that holds a FAT32 volume
// with MinClusters clusters of 512 bytes.
var MinSize = int64(minSectors()) * sectorSize

func minSectors() int {
	fat := ((MinClusters+2)*4 + sectorSize - 1) / sectorSize
	return reserved + numFATs*fat + MinClusters
}

// Options for Format.
type Options struct {
	Label       string    // volume label, up to 11 characters (upper-cased); default "NO NAME"
	VolumeID    uint32    // 0: random
	Time        time.Time // timestamps for entries; zero: now
	HiddenStart uint32    // sectors before the partition on its disk (BPB hidden sectors)
	// ClusterSize forces a cluster size in bytes (power of two, 512..32768); 0 chooses.
	ClusterSize int
	allowSmall  bool // tests only: skip the MinClusters check
}

// Geometry is the computed layout.
type Geometry struct {
	TotalSectors      uint32
	SectorsPerCluster uint32
	FATSectors        uint32
	Clusters          uint32
}

// ClusterBytes returns the cluster size in bytes.
func (g Geometry) ClusterBytes() int { return int(g.SectorsPerCluster) * sectorSize }

func (g Geometry) dataStart() int64 {
	return int64(reserved+numFATs*g.FATSectors) * sectorSize
}

func geometryFor(total uint32, spc uint32) Geometry {
	g := Geometry{TotalSectors: total, SectorsPerCluster: spc}
	if total <= reserved {
		return g
	}
	// Over-estimate the FAT from all non-reserved sectors, then shrink it
	// while the smaller FAT still covers every cluster.
	clus := (total - reserved) / spc
	fat := uint32((uint64(clus)+2)*4+sectorSize-1) / sectorSize
	fits := func(f uint32) (uint32, bool) {
		if reserved+numFATs*f >= total {
			return 0, false
		}
		c := (total - reserved - numFATs*f) / spc
		return c, (uint64(c)+2)*4 <= uint64(f)*sectorSize
	}
	c, ok := fits(fat)
	if !ok {
		return g
	}
	for fat > 1 {
		c2, ok2 := fits(fat - 1)
		if !ok2 {
			break
		}
		fat, c = fat-1, c2
	}
	g.FATSectors, g.Clusters = fat, c
	return g
}

// ChooseGeometry picks the cluster size for a partition of size bytes: the
// size Windows would choose (4 KiB up to 8 GiB, then 8, 16, 32 KiB), halved
// until the volume has at least MinClusters clusters. It fails, naming the
// minimum size, when even 512-byte clusters give too few.
func ChooseGeometry(size int64, clusterSize int) (Geometry, error) {
	return chooseGeometry(size, clusterSize, false)
}

func chooseGeometry(size int64, clusterSize int, allowSmall bool) (Geometry, error) {
	if size/sectorSize > 0xFFFFFFFF {
		return Geometry{}, fmt.Errorf("fat32: partition of %d bytes is larger than FAT32's 2 TiB limit", size)
	}
	total := uint32(size / sectorSize)
	var spc uint32
	switch {
	case clusterSize != 0:
		if clusterSize < 512 || clusterSize > 32768 || clusterSize&(clusterSize-1) != 0 {
			return Geometry{}, fmt.Errorf("fat32: cluster size %d not a power of two in 512..32768", clusterSize)
		}
		spc = uint32(clusterSize / sectorSize)
	case size <= 8<<30:
		spc = 8
	case size <= 16<<30:
		spc = 16
	case size <= 32<<30:
		spc = 32
	default:
		spc = 64
	}
	g := geometryFor(total, spc)
	for clusterSize == 0 && g.Clusters < MinClusters && spc > 1 {
		spc /= 2
		g = geometryFor(total, spc)
	}
	if g.Clusters > maxClusters {
		return g, fmt.Errorf("fat32: %d clusters exceed FAT32's limit; use a larger cluster size", g.Clusters)
	}
	if g.Clusters < MinClusters && !(allowSmall && g.Clusters >= 16) {
		return g, fmt.Errorf("fat32: partition of %d bytes is too small for FAT32: it needs at least %d clusters "+
			"(Windows treats fewer as FAT16); the minimum size is %d bytes (%.1f MiB) with 512-byte clusters, "+
			"and %d MiB for 4 KiB clusters", size, MinClusters, MinSize, float64(MinSize)/(1<<20), minSizeFor(8)>>20+1)
	}
	return g, nil
}

func minSizeFor(spc int) int64 {
	fat := ((MinClusters+2)*4 + sectorSize - 1) / sectorSize
	return int64(reserved+numFATs*fat+MinClusters*spc) * sectorSize
}

type node struct {
	name     string
	dir      bool
	children map[string]*node
	order    []string
	cluster  uint32
	size     uint32
	short    [11]byte
	mtime    time.Time
}

// Writer builds a new FAT32 filesystem. Files are written as they are added;
// directories, the FATs and the boot sectors at Close.
type Writer struct {
	dev    io.WriterAt
	opt    Options
	geo    Geometry
	fat    []uint32
	next   uint32 // next free cluster
	root   *node
	files  []fileExtent
	closed bool
}

// fileExtent is where a file's data went: clusters first..first+n-1.
type fileExtent struct {
	path     string
	first, n uint32
}

// Format starts a FAT32 filesystem on dev (a partition window of size bytes).
// Nothing but file data is written before Close.
func Format(dev io.WriterAt, size int64, opt Options) (*Writer, error) {
	g, err := chooseGeometry(size, opt.ClusterSize, opt.allowSmall)
	if err != nil {
		return nil, err
	}
	if opt.Label == "" {
		opt.Label = "NO NAME"
	}
	if _, err := labelBytes(opt.Label); err != nil {
		return nil, err
	}
	if opt.VolumeID == 0 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		opt.VolumeID = binary.LittleEndian.Uint32(b[:])
	}
	if opt.Time.IsZero() {
		opt.Time = time.Now()
	}
	w := &Writer{dev: dev, opt: opt, geo: g, fat: make([]uint32, g.Clusters+2), next: 3}
	w.fat[0] = 0x0FFFFF00 | 0xF8 // FAT[0]: the media byte
	w.fat[1] = eoc               // FAT[1]: clean, no errors
	w.fat[2] = eoc               // root directory's first cluster
	w.root = &node{dir: true, cluster: 2, children: map[string]*node{}}
	return w, nil
}

// Geometry returns the layout chosen.
func (w *Writer) Geometry() Geometry { return w.geo }

func labelBytes(l string) ([11]byte, error) {
	var b [11]byte
	u := strings.ToUpper(l)
	if len(u) > 11 {
		return b, fmt.Errorf("fat32: label %q longer than 11 characters", l)
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c < 0x20 || c >= 0x7F || strings.IndexByte(`"*+,./:;<=>?[\]|`, c) >= 0 {
			return b, fmt.Errorf("fat32: label %q has a character not allowed in a FAT label: %q", l, c)
		}
	}
	copy(b[:], u)
	for i := len(u); i < 11; i++ {
		b[i] = ' '
	}
	return b, nil
}

func splitPath(p string) ([]string, error) {
	p = strings.Trim(strings.ReplaceAll(p, "\\", "/"), "/")
	if p == "" {
		return nil, nil
	}
	parts := strings.Split(path.Clean(p), "/")
	for _, s := range parts {
		if err := validName(s); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

func validName(s string) error {
	if s == "" || s == "." || s == ".." || len(utf16.Encode([]rune(s))) > 255 {
		return fmt.Errorf("fat32: bad file name %q", s)
	}
	for _, r := range s {
		if r < 0x20 || strings.ContainsRune(`"*/:<>?\|`, r) {
			return fmt.Errorf("fat32: file name %q contains %q, not allowed on FAT", s, r)
		}
	}
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, " ") {
		return fmt.Errorf("fat32: file name %q ends in a dot or space", s)
	}
	return nil
}

func (w *Writer) lookupDir(parts []string, create bool) (*node, error) {
	d := w.root
	for i, p := range parts {
		key := strings.ToUpper(p)
		c, ok := d.children[key]
		if !ok {
			if !create {
				return nil, fmt.Errorf("fat32: %s: no such directory", strings.Join(parts[:i+1], "/"))
			}
			c = &node{name: p, dir: true, children: map[string]*node{}, mtime: w.opt.Time}
			d.children[key] = c
			d.order = append(d.order, key)
		} else if !c.dir {
			return nil, fmt.Errorf("fat32: %s is a file", strings.Join(parts[:i+1], "/"))
		}
		d = c
	}
	return d, nil
}

// MkdirAll creates a directory and its parents.
func (w *Writer) MkdirAll(p string) error {
	parts, err := splitPath(p)
	if err != nil {
		return err
	}
	_, err = w.lookupDir(parts, true)
	return err
}

// WriteFile writes a file of exactly size bytes read from r at path p,
// creating parent directories. Data goes to contiguous clusters at once.
func (w *Writer) WriteFile(p string, r io.Reader, size int64, mtime time.Time) error {
	if r == nil {
		return errors.New("fat32: no reader")
	}
	return w.add(p, r, size, mtime)
}

// Place records a file of size bytes at path p, with clusters allocated exactly as
// WriteFile would, without writing its content: for laying out the metadata of a volume
// whose data is already in place (Expect).
func (w *Writer) Place(p string, size int64, mtime time.Time) error {
	return w.add(p, nil, size, mtime)
}

func (w *Writer) add(p string, r io.Reader, size int64, mtime time.Time) error {
	if w.closed {
		return errors.New("fat32: writer closed")
	}
	parts, err := splitPath(p)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return fmt.Errorf("fat32: empty file name")
	}
	if size < 0 || size > 0xFFFFFFFF {
		return fmt.Errorf("fat32: %s: size %d outside FAT32's 4 GiB file limit", p, size)
	}
	d, err := w.lookupDir(parts[:len(parts)-1], true)
	if err != nil {
		return err
	}
	key := strings.ToUpper(parts[len(parts)-1])
	if _, ok := d.children[key]; ok {
		return fmt.Errorf("fat32: %s exists", p)
	}
	if mtime.IsZero() {
		mtime = w.opt.Time
	}
	n := &node{name: parts[len(parts)-1], size: uint32(size), mtime: mtime}
	if size > 0 {
		cb := int64(w.geo.ClusterBytes())
		nclus := uint32((size + cb - 1) / cb)
		first, err := w.alloc(nclus)
		if err != nil {
			return fmt.Errorf("fat32: %s: %w", p, err)
		}
		n.cluster = first
		w.files = append(w.files, fileExtent{path: strings.Join(parts, "/"), first: first, n: nclus})
		if r != nil {
			if err := w.writeData(first, r, size); err != nil {
				return fmt.Errorf("fat32: %s: %w", p, err)
			}
		}
	}
	d.children[key] = n
	d.order = append(d.order, key)
	return nil
}

// alloc reserves n contiguous clusters and chains them.
func (w *Writer) alloc(n uint32) (uint32, error) {
	if uint64(w.next)+uint64(n) > uint64(w.geo.Clusters)+2 {
		return 0, fmt.Errorf("filesystem full (%d clusters of %d bytes)", w.geo.Clusters, w.geo.ClusterBytes())
	}
	first := w.next
	for i := uint32(0); i < n; i++ {
		c := first + i
		if i == n-1 {
			w.fat[c] = eoc
		} else {
			w.fat[c] = c + 1
		}
	}
	w.next += n
	return first, nil
}

func (w *Writer) clusterOff(c uint32) int64 {
	return w.geo.dataStart() + int64(c-2)*int64(w.geo.ClusterBytes())
}

func (w *Writer) writeData(first uint32, r io.Reader, size int64) error {
	cb := int64(w.geo.ClusterBytes())
	buf := make([]byte, 1<<20)
	off := w.clusterOff(first)
	var done int64
	for done < size {
		n := int64(len(buf))
		if size-done < n {
			n = size - done
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return fmt.Errorf("reading source: %w", err)
		}
		chunk := buf[:n]
		if done+n == size && n%cb != 0 { // zero the tail of the last cluster
			pad := cb - n%cb
			chunk = buf[:n+pad]
			clear(chunk[n:])
		}
		if _, err := w.dev.WriteAt(chunk, off+done); err != nil {
			return err
		}
		done += n
	}
	return nil
}

// assignShortNames assigns 8.3 names within a directory.
func assignShortNames(d *node) {
	used := map[[11]byte]bool{}
	keys := d.order
	for _, k := range keys {
		c := d.children[k]
		if s, ok := plainShort(c.name); ok && !used[s] {
			c.short = s
			used[s] = true
		}
	}
	for _, k := range keys {
		c := d.children[k]
		if c.short != ([11]byte{}) {
			continue
		}
		base, ext := shortBasis(c.name)
		for i := 1; ; i++ {
			tail := fmt.Sprintf("~%d", i)
			b := base
			if len(b)+len(tail) > 8 {
				b = b[:8-len(tail)]
			}
			var s [11]byte
			copy(s[:], pad(b+tail, 8))
			copy(s[8:], pad(ext, 3))
			if !used[s] {
				c.short = s
				used[s] = true
				break
			}
		}
	}
}

func pad(s string, n int) string {
	for len(s) < n {
		s += " "
	}
	return s
}

const shortOK = "!#$%&'()-@^_`{}~"

func isShortChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte(shortOK, c) >= 0
}

// plainShort returns the 8.3 form of a name that is already a valid 8.3
// name apart from case.
func plainShort(name string) ([11]byte, bool) {
	var s [11]byte
	u := strings.ToUpper(name)
	base, ext := u, ""
	if i := strings.LastIndexByte(u, '.'); i >= 0 {
		base, ext = u[:i], u[i+1:]
	}
	if len(base) == 0 || len(base) > 8 || len(ext) > 3 || strings.Contains(base, ".") {
		return s, false
	}
	for i := 0; i < len(base); i++ {
		if !isShortChar(base[i]) {
			return s, false
		}
	}
	for i := 0; i < len(ext); i++ {
		if !isShortChar(ext[i]) {
			return s, false
		}
	}
	copy(s[:], pad(base, 8))
	copy(s[8:], pad(ext, 3))
	return s, true
}

func shortBasis(name string) (string, string) {
	u := strings.ToUpper(name)
	base, ext := u, ""
	if i := strings.LastIndexByte(u, '.'); i > 0 {
		base, ext = u[:i], u[i+1:]
	}
	clean := func(s string, n int) string {
		var b []byte
		for i := 0; i < len(s) && len(b) < n; i++ {
			c := s[i]
			switch {
			case c == ' ' || c == '.':
			case isShortChar(c):
				b = append(b, c)
			default:
				b = append(b, '_')
			}
		}
		return string(b)
	}
	b := clean(base, 6)
	if b == "" {
		b = "FILE"
	}
	return b, clean(ext, 3)
}

func shortChecksum(s [11]byte) byte {
	var sum byte
	for _, c := range s {
		sum = (sum>>1 | sum<<7) + c
	}
	return sum
}

func dosTime(t time.Time) (date, tm uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	tm = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return
}

func shortEntry(name [11]byte, attr byte, cluster, size uint32, t time.Time) []byte {
	e := make([]byte, dirEntry)
	copy(e[dirName:], name[:])
	e[dirAttr] = attr
	d, tm := dosTime(t)
	binary.LittleEndian.PutUint16(e[dirCrtTime:], tm)
	binary.LittleEndian.PutUint16(e[dirCrtDate:], d)
	binary.LittleEndian.PutUint16(e[dirLstAccDate:], d)
	binary.LittleEndian.PutUint16(e[dirFstClusHI:], uint16(cluster>>16))
	binary.LittleEndian.PutUint16(e[dirWrtTime:], tm)
	binary.LittleEndian.PutUint16(e[dirWrtDate:], d)
	binary.LittleEndian.PutUint16(e[dirFstClusLO:], uint16(cluster))
	binary.LittleEndian.PutUint32(e[dirFileSize:], size)
	return e
}

func lfnEntries(name string, short [11]byte) []byte {
	u := utf16.Encode([]rune(name))
	n := (len(u) + ldirChars - 1) / ldirChars
	buf := make([]uint16, n*ldirChars)
	for i := range buf {
		buf[i] = ldirPadding
	}
	copy(buf, u)
	if len(u) < len(buf) {
		buf[len(u)] = 0
	}
	sum := shortChecksum(short)
	out := make([]byte, 0, n*dirEntry)
	for seq := n; seq >= 1; seq-- {
		e := make([]byte, dirEntry)
		e[ldirOrd] = byte(seq)
		if seq == n {
			e[ldirOrd] |= ldirLast
		}
		e[ldirAttr] = attrLongName
		e[ldirChksum] = sum
		putLFNUnits(e, buf[(seq-1)*ldirChars:][:ldirChars])
		out = append(out, e...)
	}
	return out
}

func needsLFN(name string, short [11]byte) bool {
	s, ok := plainShort(name)
	return !ok || s != short || strings.ToUpper(name) != name
}

// dirBytes serialises a directory (without allocating).
func (w *Writer) dirBytes(d *node, parent *node, isRoot bool) []byte {
	var b []byte
	if isRoot {
		lb, _ := labelBytes(w.opt.Label)
		b = append(b, shortEntry(lb, attrVolumeID, 0, 0, w.opt.Time)...)
	} else {
		var dot, dotdot [11]byte
		copy(dot[:], pad(".", 11))
		copy(dotdot[:], pad("..", 11))
		b = append(b, shortEntry(dot, attrDirectory, d.cluster, 0, d.mtime)...)
		pc := parent.cluster
		if parent == w.root {
			pc = 0 // '..' pointing at the root is cluster 0
		}
		b = append(b, shortEntry(dotdot, attrDirectory, pc, 0, d.mtime)...)
	}
	for _, k := range d.order {
		c := d.children[k]
		if needsLFN(c.name, c.short) {
			b = append(b, lfnEntries(c.name, c.short)...)
		}
		attr := byte(attrArchive)
		size := c.size
		if c.dir {
			attr, size = attrDirectory, 0
		}
		b = append(b, shortEntry(c.short, attr, c.cluster, size, c.mtime)...)
	}
	return b
}

// metadata is everything a Writer puts on the volume apart from file data.
type metadata struct {
	reserved []byte // the reserved region: boot sector, FSInfo, backups
	fat      []byte // one FAT copy (FATSectors sectors)
	dirs     []dirImage
	used     uint32 // clusters 2..used-1 are allocated
}

// dirImage is one directory: its clusters and their bytes.
type dirImage struct {
	path  string
	chain []uint32
	data  []byte // len(chain) clusters
	used  int    // bytes of entries at the start of data
}

// layout assigns short names, allocates every directory's clusters and encodes the
// directories, the FAT and the reserved region.
func (w *Writer) layout() (*metadata, error) {
	cb := w.geo.ClusterBytes()
	type dirJob struct {
		d, parent *node
		path      string
	}
	var jobs []dirJob
	var walk func(d, parent *node, path string)
	walk = func(d, parent *node, p string) {
		assignShortNames(d)
		jobs = append(jobs, dirJob{d, parent, p})
		for _, k := range d.order {
			if c := d.children[k]; c.dir {
				walk(c, d, joinPath(p, c.name))
			}
		}
	}
	walk(w.root, nil, "")
	for _, j := range jobs {
		n := len(w.dirBytes(j.d, j.parent, j.d == w.root))
		nclus := uint32((n + cb - 1) / cb)
		if nclus == 0 {
			nclus = 1
		}
		if j.d == w.root {
			if nclus > 1 { // root keeps cluster 2 and chains more
				extra, err := w.alloc(nclus - 1)
				if err != nil {
					return nil, fmt.Errorf("fat32: root directory: %w", err)
				}
				w.fat[2] = extra
			}
			continue
		}
		first, err := w.alloc(nclus)
		if err != nil {
			return nil, fmt.Errorf("fat32: directory %s: %w", j.d.name, err)
		}
		j.d.cluster = first
	}
	m := &metadata{used: w.next}
	for _, j := range jobs {
		b := w.dirBytes(j.d, j.parent, j.d == w.root)
		full := make([]byte, max((len(b)+cb-1)/cb*cb, cb))
		copy(full, b)
		di := dirImage{path: j.path, data: full, used: len(b)}
		c := j.d.cluster
		for off := 0; off < len(full); off += cb {
			di.chain = append(di.chain, c)
			c = w.fat[c]
		}
		m.dirs = append(m.dirs, di)
	}
	m.fat = make([]byte, int(w.geo.FATSectors)*sectorSize)
	for i, v := range w.fat {
		binary.LittleEndian.PutUint32(m.fat[4*i:], v)
	}
	m.reserved = make([]byte, reserved*sectorSize)
	boot := w.bootSector()
	fsinfo := w.fsInfo()
	copy(m.reserved, boot)
	copy(m.reserved[backupBootSector*sectorSize:], boot)
	copy(m.reserved[(backupBootSector+fsInfoSector)*sectorSize:], fsinfo)
	copy(m.reserved[fsInfoSector*sectorSize:], fsinfo)
	// The third sector of each boot record (after the boot sector and FSInfo) carries the
	// signature too, as Windows writes it.
	for _, s := range []int{2, backupBootSector + 2} {
		m.reserved[s*sectorSize+bsSignature], m.reserved[s*sectorSize+bsSignature+1] = 0x55, 0xAA
	}
	return m, nil
}

// Close writes directories, both FATs, FSInfo and the boot sectors (the
// primary boot sector last).
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	m, err := w.layout()
	if err != nil {
		return err
	}
	cb := w.geo.ClusterBytes()
	for _, d := range m.dirs {
		for i, c := range d.chain {
			if _, err := w.dev.WriteAt(d.data[i*cb:(i+1)*cb], w.clusterOff(c)); err != nil {
				return err
			}
		}
	}
	for i := 0; i < numFATs; i++ {
		off := int64(reserved+uint32(i)*w.geo.FATSectors) * sectorSize
		if _, err := w.dev.WriteAt(m.fat, off); err != nil {
			return err
		}
	}
	if _, err := w.dev.WriteAt(m.reserved[sectorSize:], sectorSize); err != nil {
		return err
	}
	_, err = w.dev.WriteAt(m.reserved[:sectorSize], 0)
	return err
}

func (w *Writer) bootSector() []byte {
	b := make([]byte, sectorSize)
	lb, _ := labelBytes(w.opt.Label)
	p := bootParams{
		jmp:        [3]byte{bsJmpShort, bsBootCode - 2, bsNop},
		bytsPerSec: sectorSize,
		secPerClus: uint8(w.geo.SectorsPerCluster),
		rsvdSecCnt: reserved,
		numFATs:    numFATs,
		media:      0xF8,
		secPerTrk:  63,
		numHeads:   255,
		hiddSec:    w.opt.HiddenStart,
		totSec32:   w.geo.TotalSectors,
		fatSz32:    w.geo.FATSectors,
		rootClus:   2,
		fsInfo:     fsInfoSector,
		bkBootSec:  backupBootSector,
		drvNum:     0x80,
		bootSig:    bsBootSigValue,
		volID:      w.opt.VolumeID,
		volLab:     lb,

		hasSignature: true,
	}
	copy(p.oem[:], "MSWIN4.1")
	copy(p.filSysType[:], "FAT32   ")
	p.put(b)
	// Not bootable: the code at the jump target halts in a loop.
	b[bsBootCode], b[bsBootCode+1], b[bsBootCode+2] = 0xFA, 0xEB, 0xFD // cli; jmp back to the cli
	return b
}

func (w *Writer) fsInfo() []byte {
	b := make([]byte, sectorSize)
	binary.LittleEndian.PutUint32(b[fsiLeadSig:], fsiLeadValue)
	binary.LittleEndian.PutUint32(b[fsiStrucSig:], fsiStrucValue)
	free := w.geo.Clusters + 2 - w.next
	binary.LittleEndian.PutUint32(b[fsiFreeCount:], free)
	binary.LittleEndian.PutUint32(b[fsiNxtFree:], w.next)
	binary.LittleEndian.PutUint32(b[fsiTrailSig:], fsiTrailValue)
	return b
}
