package ext4

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// Device is what the filesystem lives on (image.Device, luks.Volume).
type Device interface {
	io.ReaderAt
	io.WriterAt
	Size() int64
}

// FS is an opened ext4 filesystem.
type FS struct {
	dev       Device
	writable  bool
	sb        []byte // 1024 bytes, current (after journal replay)
	bs        int64
	blocks    uint64
	groups    uint32
	bpg, ipg  uint32
	firstData uint64
	inodeSize int
	descSize  int
	gdt       []byte
	gdtDisk   []byte // the descriptors as last written (nil: not tracked, as in mkfs)
	gdtBlock  uint64
	overlay   map[uint64][]byte // blocks replayed from the journal, not yet on disk
	replayed  int               // transactions replayed
	warnings  []string

	// writer state
	bbCache   map[uint32][]byte
	ibCache   map[uint32][]byte
	dirtyBB   map[uint32]bool
	dirtyIB   map[uint32]bool
	dirtyGD   map[uint32]bool
	began     bool
	now       func() time.Time
	lastGroup uint32

	// flushes: tickets are handed out as flushes start (under the caller's lock) and
	// flushed is one past the highest ticket of a flush that completed, so a change
	// written when tickets was t is durable once flushed > t
	tickets, flushed uint64
	unnamed          []laterName          // temporary names to remove once their file's name is durable
	namedAt          uint64               // tickets when the last directory entry was added
	named            bool                 // an entry was added (namedAt is set)
	pending          []pendingLink        // new folders whose names linkPending writes
	streams          map[*Stream]struct{} // Streams not committed or aborted (reclaim)
}

// Options for Open.
type Options struct {
	// Writable opens for writing. A journal that needs recovery is then
	// replayed onto the device first; states that need e2fsck are refused.
	Writable bool
}

// Errors.
var (
	ErrNotExt4     = errors.New("ext4: not an ext4 filesystem")
	ErrNeedsFsck   = errors.New("ext4: filesystem needs checking")
	ErrNoSpace     = errors.New("ext4: no space left on the volume")
	ErrUnsupported = errors.New("ext4: unsupported feature")
)

// Info describes a file or directory.
type Info struct {
	Name    string
	Ino     uint32
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	Links   uint16
}

// IsDir reports whether the entry is a directory.
func (i Info) IsDir() bool { return i.Mode.IsDir() }

// readRaw reads from the device, ignoring the overlay.
func (f *FS) readRaw(p []byte, off int64) error {
	n, err := f.dev.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readBlocks reads count blocks from block n, through the journal overlay.
func (f *FS) readBlocks(p []byte, n uint64) error {
	cnt := uint64(len(p)) / uint64(f.bs)
	if n+cnt > f.blocks || n+cnt < n {
		return fmt.Errorf("ext4: block %d+%d beyond the filesystem's %d blocks", n, cnt, f.blocks)
	}
	if err := f.readRaw(p, int64(n)*f.bs); err != nil {
		return fmt.Errorf("ext4: read block %d: %w", n, err)
	}
	if len(f.overlay) > 0 {
		for i := uint64(0); i < cnt; i++ {
			if b, ok := f.overlay[n+i]; ok {
				copy(p[i*uint64(f.bs):], b)
			}
		}
	}
	return nil
}

func (f *FS) readBlock(n uint64) ([]byte, error) {
	b := make([]byte, f.bs)
	return b, f.readBlocks(b, n)
}

// Open opens the ext4 filesystem on dev.
func Open(dev Device, opt Options) (*FS, error) {
	f := &FS{dev: dev, writable: opt.Writable, now: time.Now}
	if err := f.loadSuper(); err != nil {
		return nil, err
	}
	if opt.Writable {
		if err := f.writeCheck(); err != nil {
			return nil, err
		}
	}
	inc := le32(f.sb, sbFeatureIncompat)
	if inc&incompatRecover != 0 {
		if err := f.replayJournal(); err != nil {
			return nil, err
		}
	}
	if err := f.checkState(); err != nil {
		return nil, err
	}
	if opt.Writable {
		if err := f.checkAllocation(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *FS) loadSuper() error {
	sb := make([]byte, sbSize)
	if err := f.readRaw(sb, sbOffset); err != nil {
		return fmt.Errorf("ext4: read superblock: %w", err)
	}
	return f.parseSuper(sb)
}

func (f *FS) parseSuper(sb []byte) error {
	if le16(sb, sbMagic) != magic {
		return ErrNotExt4
	}
	lbs := le32(sb, sbLogBlockSize)
	if lbs > 6 {
		return fmt.Errorf("%w (block size 2^%d KiB)", ErrNotExt4, lbs)
	}
	f.sb = sb
	f.bs = 1024 << lbs
	f.blocks = uint64(le32(sb, sbBlocksCountLo))
	inc := le32(sb, sbFeatureIncompat)
	if inc&incompat64bit != 0 {
		f.blocks |= uint64(le32(sb, sbBlocksCountHi)) << 32
		f.descSize = int(le16(sb, sbDescSize))
		if f.descSize < 64 || f.descSize > 1024 || f.descSize&(f.descSize-1) != 0 {
			return fmt.Errorf("ext4: bad group descriptor size %d", f.descSize)
		}
	} else {
		f.descSize = 32
	}
	f.bpg = le32(sb, sbBlocksPerGroup)
	f.ipg = le32(sb, sbInodesPerGroup)
	f.firstData = uint64(le32(sb, sbFirstDataBlock))
	f.inodeSize = 128
	if le32(sb, sbRevLevel) >= 1 {
		f.inodeSize = int(le16(sb, sbInodeSize))
	}
	if f.inodeSize < 128 || int64(f.inodeSize) > f.bs || f.inodeSize&(f.inodeSize-1) != 0 {
		return fmt.Errorf("ext4: bad inode size %d", f.inodeSize)
	}
	if f.bpg == 0 || f.bpg > uint32(8*f.bs) || f.ipg == 0 || f.ipg > uint32(8*f.bs) {
		return fmt.Errorf("ext4: bad group geometry (%d blocks, %d inodes per group)", f.bpg, f.ipg)
	}
	if f.blocks*uint64(f.bs) > uint64(f.dev.Size()) || f.blocks <= f.firstData {
		return fmt.Errorf("ext4: filesystem of %d blocks larger than the device (%d bytes)", f.blocks, f.dev.Size())
	}
	if f.firstData != 0 && !(f.bs == 1024 && f.firstData == 1) {
		return fmt.Errorf("ext4: bad first data block %d", f.firstData)
	}
	if inc&incompatMetaBG != 0 {
		return fmt.Errorf("%w: meta_bg", ErrUnsupported)
	}
	f.groups = uint32((f.blocks - f.firstData + uint64(f.bpg) - 1) / uint64(f.bpg))
	if uint64(le32(sb, sbInodesCount)) != uint64(f.groups)*uint64(f.ipg) {
		return fmt.Errorf("ext4: inode count %d != %d groups x %d", le32(sb, sbInodesCount), f.groups, f.ipg)
	}
	f.gdtBlock = f.firstData + 1
	gdtBytes := int64(f.groups) * int64(f.descSize)
	gdtBlocks := (gdtBytes + f.bs - 1) / f.bs
	if gdtBlocks > 1<<16 {
		return fmt.Errorf("ext4: %d group descriptor blocks is too many", gdtBlocks)
	}
	gdt := make([]byte, gdtBlocks*f.bs)
	if err := f.readBlocks(gdt, f.gdtBlock); err != nil {
		return err
	}
	f.gdt = gdt[:gdtBytes]
	f.gdtDisk = append([]byte(nil), f.gdt...)
	for g := uint32(0); g < f.groups; g++ {
		it := f.gdInodeTable(g)
		itBlocks := (uint64(f.ipg)*uint64(f.inodeSize) + uint64(f.bs) - 1) / uint64(f.bs)
		if it == 0 || it+itBlocks > f.blocks {
			return fmt.Errorf("ext4: group %d inode table at block %d out of range", g, it)
		}
	}
	return nil
}

func (f *FS) checkState() error {
	st := le16(f.sb, sbState)
	orphan := le32(f.sb, sbLastOrphan) != 0 || le32(f.sb, sbFeatureRoCompat)&roOrphanPresent != 0
	var msgs []string
	if st&stateError != 0 {
		msgs = append(msgs, "the kernel recorded filesystem errors")
	}
	if orphan {
		msgs = append(msgs, "files deleted or truncated while open are pending (orphan list)")
	}
	if st&stateValid == 0 && !f.writable {
		f.warnings = append(f.warnings, "filesystem was not cleanly unmounted")
	}
	if len(msgs) == 0 {
		return nil
	}
	if !f.writable {
		f.warnings = append(f.warnings, msgs...)
		return nil
	}
	return fmt.Errorf("%w: %s; travelkit will not write to it. Repair it on Linux with "+
		"`cryptsetup open DEVICE kit && e2fsck -fy /dev/mapper/kit && cryptsetup close kit`, then retry",
		ErrNeedsFsck, strings.Join(msgs, "; "))
}

// Warnings returns notes about the state found when opening (read-only).
func (f *FS) Warnings() []string { return f.warnings }

// Replayed returns how many journal transactions were replayed when opening.
func (f *FS) Replayed() int { return f.replayed }

// BlockSize returns the block size.
func (f *FS) BlockSize() int64 { return f.bs }

// Blocks returns the block count.
func (f *FS) Blocks() uint64 { return f.blocks }

// FreeBlocks returns the free block count of the group descriptors.
func (f *FS) FreeBlocks() uint64 {
	var n uint64
	for g := uint32(0); g < f.groups; g++ {
		n += uint64(f.gdFreeBlocks(g))
	}
	return n
}

// Label returns the volume label.
func (f *FS) Label() string {
	b := f.sb[sbVolumeName : sbVolumeName+16]
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// UUID returns the filesystem UUID bytes.
func (f *FS) UUID() [16]byte { return [16]byte(f.sb[sbUUID : sbUUID+16]) }

// group descriptor accessors
func (f *FS) gd(g uint32) []byte { return f.gdt[int(g)*f.descSize:][:f.descSize] }

func (f *FS) gd32pair(g uint32, lo, hi int) uint64 {
	d := f.gd(g)
	v := uint64(le32(d, lo))
	if f.descSize >= 64 {
		v |= uint64(le32(d, hi)) << 32
	}
	return v
}

func (f *FS) gd16pair(g uint32, lo, hi int) uint32 {
	d := f.gd(g)
	v := uint32(le16(d, lo))
	if f.descSize >= 64 {
		v |= uint32(le16(d, hi)) << 16
	}
	return v
}

func (f *FS) gdBlockBitmap(g uint32) uint64 { return f.gd32pair(g, bgBlockBitmap, bgBlockBitmapHi) }
func (f *FS) gdInodeBitmap(g uint32) uint64 { return f.gd32pair(g, bgInodeBitmap, bgInodeBitmapHi) }
func (f *FS) gdInodeTable(g uint32) uint64  { return f.gd32pair(g, bgInodeTable, bgInodeTableHi) }
func (f *FS) gdFreeBlocks(g uint32) uint32  { return f.gd16pair(g, bgFreeBlocks, bgFreeBlocksHi) }
func (f *FS) gdFreeInodes(g uint32) uint32  { return f.gd16pair(g, bgFreeInodes, bgFreeInodesHi) }
func (f *FS) gdUsedDirs(g uint32) uint32    { return f.gd16pair(g, bgUsedDirs, bgUsedDirsHi) }
func (f *FS) gdItableUnused(g uint32) uint32 {
	return f.gd16pair(g, bgItableUnused, bgItableUnusedHi)
}
func (f *FS) gdFlags(g uint32) uint16 { return le16(f.gd(g), bgFlags) }

func (f *FS) setGD16pair(g uint32, lo, hi int, v uint32) {
	d := f.gd(g)
	put16(d, lo, uint16(v))
	if f.descSize >= 64 {
		put16(d, hi, uint16(v>>16))
	}
}

// inode is one on-disk inode (a copy).
type inode struct {
	ino uint32
	b   []byte
}

func (n *inode) mode() uint16 { return le16(n.b, iMode) }
func (n *inode) size() int64 {
	return int64(uint64(le32(n.b, iSizeLo)) | uint64(le32(n.b, iSizeHi))<<32)
}
func (n *inode) flags() uint32 { return le32(n.b, iFlags) }
func (n *inode) isDir() bool   { return n.mode()&modeType == modeDir }

func (f *FS) inodeLoc(ino uint32) (uint64, int, error) {
	if ino == 0 || uint64(ino) > uint64(f.groups)*uint64(f.ipg) {
		return 0, 0, fmt.Errorf("ext4: inode %d out of range", ino)
	}
	g := (ino - 1) / f.ipg
	idx := int64((ino - 1) % f.ipg)
	byteOff := idx * int64(f.inodeSize)
	blk := f.gdInodeTable(g) + uint64(byteOff/f.bs)
	return blk, int(byteOff % f.bs), nil
}

func (f *FS) readInode(ino uint32) (*inode, error) {
	blk, off, err := f.inodeLoc(ino)
	if err != nil {
		return nil, err
	}
	b, err := f.readBlock(blk)
	if err != nil {
		return nil, err
	}
	return &inode{ino: ino, b: append([]byte(nil), b[off:off+f.inodeSize]...)}, nil
}

// extent is one mapping of logical blocks to physical blocks.
type extent struct {
	lblk   uint32
	len    uint32
	pblk   uint64
	uninit bool
}

// extents returns the leaf extents of an inode in logical order, and the
// tree's index/leaf blocks.
func (f *FS) extents(n *inode) ([]extent, []uint64, error) {
	if n.flags()&flagInlineData != 0 {
		return nil, nil, fmt.Errorf("%w: inline data (inode %d)", ErrUnsupported, n.ino)
	}
	if n.flags()&flagExtents == 0 {
		if n.mode()&modeType == modeLink && n.size() < 60 {
			return nil, nil, nil
		}
		if n.size() == 0 {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("%w: block-mapped (ext2/3 style) inode %d", ErrUnsupported, n.ino)
	}
	var out []extent
	var tree []uint64
	budget := int64(min(f.blocks, 1<<24)) // total extent length cannot exceed the volume
	nodes := 0
	var walk func(node []byte, depth int) error
	walk = func(node []byte, depth int) error {
		if len(node) < ehSize || le16(node, ehMagic) != extMagic {
			return fmt.Errorf("ext4: inode %d: bad extent header", n.ino)
		}
		ents := int(le16(node, ehEntries))
		max := int(le16(node, ehMax))
		d := int(le16(node, ehDepth))
		if ents > max || ehSize+ehSize*max > len(node) || d > 5 || (depth >= 0 && d != depth) {
			return fmt.Errorf("ext4: inode %d: corrupt extent node", n.ino)
		}
		for i := 0; i < ents; i++ {
			e := node[ehSize+ehSize*i:]
			if d == 0 {
				l := uint32(le16(e, eeLen))
				x := extent{lblk: le32(e, eeBlock), pblk: uint64(le16(e, eeStartHi))<<32 | uint64(le32(e, eeStartLo))}
				if l > maxInitExtentLen {
					x.uninit, l = true, l-maxInitExtentLen
				}
				x.len = l
				if x.pblk+uint64(l) > f.blocks || l == 0 {
					return fmt.Errorf("ext4: inode %d: extent beyond the filesystem", n.ino)
				}
				if len(out) > 0 {
					p := out[len(out)-1]
					if uint64(x.lblk) < uint64(p.lblk)+uint64(p.len) {
						return fmt.Errorf("ext4: inode %d: overlapping extents", n.ino)
					}
				}
				if budget -= int64(l); budget < 0 {
					return fmt.Errorf("ext4: inode %d: extents larger than the volume", n.ino)
				}
				out = append(out, x)
				continue
			}
			child := uint64(le16(e, eiLeafHi))<<32 | uint64(le32(e, eiLeafLo))
			tree = append(tree, child)
			if nodes++; uint64(nodes) > f.blocks || nodes > 1<<16 {
				return fmt.Errorf("ext4: inode %d: extent tree too large", n.ino)
			}
			cb, err := f.readBlock(child)
			if err != nil {
				return err
			}
			if err := walk(cb, d-1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(n.b[iBlock:iBlock+iBlockSize], -1); err != nil {
		return nil, nil, err
	}
	return out, tree, nil
}

// readData reads file bytes [off, off+len(p)) given its extents (holes and
// unwritten extents read as zeros). Whole blocks are read straight into p; a
// piece that starts or ends inside a block is read with its partial blocks in
// one device read (through a pooled buffer) when its block-aligned span is at
// most spanRead, else as a partial head block, the whole blocks in place and a
// partial tail block. It uses no mutable state of f, so reads may run
// concurrently (not with writes).
func (f *FS) readData(exts []extent, p []byte, off int64) error {
	end := off + int64(len(p))
	// What no extent covers (holes, unwritten extents) reads as zeros. With
	// extents in order, only those gaps are cleared, as the reads pass them;
	// otherwise all of p first (clearing a 16 MiB pack cost 4% of a check).
	ordered := true
	for i := 1; i < len(exts); i++ {
		if uint64(exts[i].lblk) < uint64(exts[i-1].lblk)+uint64(exts[i-1].len) {
			ordered = false
			break
		}
	}
	if !ordered {
		clear(p)
	}
	zeroed := off // with ordered extents, p is filled or cleared up to here
	var part *[]byte
	defer func() {
		if part != nil {
			spanPool.Put(part)
		}
	}()
	scratch := func(n int64) []byte {
		if n > spanRead {
			return make([]byte, n)
		}
		if part == nil {
			part = spanPool.Get().(*[]byte)
		}
		return (*part)[:n]
	}
	for _, e := range exts {
		es := int64(e.lblk) * f.bs
		ee := es + int64(e.len)*f.bs
		if ee <= off || es >= end || e.uninit {
			continue
		}
		s := max(es, off)
		t := min(ee, end)
		if ordered {
			if s > zeroed {
				clear(p[zeroed-off : s-off])
			}
			zeroed = t
		}
		blk := func(pos int64) uint64 { return e.pblk + uint64((pos-es)/f.bs) }
		// the piece's block-aligned span (extents hold whole blocks, so it stays in e)
		as := s / f.bs * f.bs
		at := (t + f.bs - 1) / f.bs * f.bs
		if (as != s || at != t) && at-as <= spanRead {
			// a small unaligned piece: one device read, then a copy
			buf := scratch(at - as)
			if err := f.readBlocks(buf, blk(as)); err != nil {
				return err
			}
			copy(p[s-off:t-off], buf[s-as:])
			continue
		}
		// head: a partial block
		if s != as {
			buf := scratch(f.bs)
			if err := f.readBlocks(buf, blk(as)); err != nil {
				return err
			}
			s += int64(copy(p[s-off:t-off], buf[s-as:]))
		}
		// middle: whole blocks, in place
		if mid := (t - s) / f.bs * f.bs; mid > 0 {
			if err := f.readBlocks(p[s-off:s-off+mid], blk(s)); err != nil {
				return err
			}
			s += mid
		}
		// tail: a partial block
		if s < t {
			buf := scratch(f.bs)
			if err := f.readBlocks(buf, blk(s)); err != nil {
				return err
			}
			copy(p[s-off:t-off], buf)
		}
	}
	if ordered && zeroed < end {
		clear(p[zeroed-off:])
	}
	return nil
}

// spanRead is the largest block-aligned span read whole into a pooled buffer
// when a piece of a file does not start or end on a block boundary: one pread
// and one decryption instead of three, for the cost of copying at most 64 KiB
// (a kit's restore reads most small blobs this way).
const spanRead = 64 << 10

var spanPool = sync.Pool{New: func() any { b := make([]byte, spanRead); return &b }}

// maxDirBytes bounds the directories read (about 500,000 entries).
const maxDirBytes = 32 << 20

// DirEntry is one directory entry.
type DirEntry struct {
	Name string
	Ino  uint32
	Type uint8
}

func (f *FS) readDirInode(n *inode) ([]DirEntry, error) {
	if !n.isDir() {
		return nil, fmt.Errorf("ext4: inode %d is not a directory", n.ino)
	}
	exts, _, err := f.extents(n)
	if err != nil {
		return nil, err
	}
	size := n.size()
	if size < 0 || size > maxDirBytes || size%f.bs != 0 || size/f.bs > int64(f.blocks) {
		return nil, fmt.Errorf("ext4: directory inode %d has bad size %d", n.ino, size)
	}
	data := make([]byte, size)
	if err := f.readData(exts, data, 0); err != nil {
		return nil, err
	}
	filetype := le32(f.sb, sbFeatureIncompat)&incompatFiletype != 0
	var out []DirEntry
	for blk := int64(0); blk < size; blk += f.bs {
		b := data[blk : blk+f.bs]
		for off := 0; off+8 <= len(b); {
			ino := le32(b, off)
			rl := int(le16(b, off+4))
			if f.bs >= 65536 && rl == 0 || rl == 65535 { // rec_len encoding for 64K blocks
				rl = int(f.bs)
			}
			nl := int(b[off+6])
			if !filetype {
				nl = int(le16(b, off+6))
			}
			if rl < 8 || rl%4 != 0 || off+rl > len(b) || 8+nl > rl {
				return nil, fmt.Errorf("ext4: directory inode %d: corrupt entry at byte %d", n.ino, blk+int64(off))
			}
			if ino != 0 && nl > 0 {
				if uint64(ino) > uint64(f.groups)*uint64(f.ipg) {
					return nil, fmt.Errorf("ext4: directory inode %d: entry with inode %d out of range", n.ino, ino)
				}
				de := DirEntry{Name: string(b[off+8 : off+8+nl]), Ino: ino}
				if filetype {
					de.Type = b[off+7]
				}
				out = append(out, de)
			}
			off += rl
		}
	}
	return out, nil
}

func cleanPath(p string) ([]string, error) {
	p = strings.Trim(p, "/")
	if p == "" || p == "." {
		return nil, nil
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return nil, fmt.Errorf("ext4: path %q leaves the root", p)
	}
	parts := strings.Split(c, "/")
	for _, s := range parts {
		if len(s) > 255 {
			return nil, fmt.Errorf("ext4: name %q longer than 255 bytes", s)
		}
	}
	return parts, nil
}

// lookup resolves a slash-separated path from the root (symlinks are not followed).
func (f *FS) lookup(p string) (*inode, error) {
	parts, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	n, err := f.readInode(rootIno)
	if err != nil {
		return nil, err
	}
	for i, name := range parts {
		if !n.isDir() {
			return nil, &fs.PathError{Op: "lookup", Path: strings.Join(parts[:i], "/"), Err: errors.New("not a directory")}
		}
		ents, err := f.readDirInode(n)
		if err != nil {
			return nil, err
		}
		var found uint32
		for _, e := range ents {
			if e.Name == name {
				found = e.Ino
				break
			}
		}
		if found == 0 {
			return nil, &fs.PathError{Op: "lookup", Path: strings.Join(parts[:i+1], "/"), Err: fs.ErrNotExist}
		}
		if n, err = f.readInode(found); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (f *FS) info(name string, n *inode) Info {
	m := n.mode()
	fm := fs.FileMode(m & 0o777)
	switch m & modeType {
	case modeDir:
		fm |= fs.ModeDir
	case modeLink:
		fm |= fs.ModeSymlink
	case modeReg:
	default:
		fm |= fs.ModeIrregular
	}
	return Info{Name: name, Ino: n.ino, Mode: fm, Size: n.size(),
		ModTime: time.Unix(int64(int32(le32(n.b, iMtime))), 0), Links: le16(n.b, iLinks)}
}

// Stat returns information about the file or directory at p.
func (f *FS) Stat(p string) (Info, error) {
	n, err := f.lookup(p)
	if err != nil {
		return Info{}, err
	}
	return f.info(path.Base("/"+strings.Trim(p, "/")), n), nil
}

// ReadDir lists the directory at p (without "." and "..").
func (f *FS) ReadDir(p string) ([]Info, error) {
	n, err := f.lookup(p)
	if err != nil {
		return nil, err
	}
	ents, err := f.readDirInode(n)
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range ents {
		if e.Name == "." || e.Name == ".." {
			continue
		}
		c, err := f.readInode(e.Ino)
		if err != nil {
			return nil, err
		}
		out = append(out, f.info(e.Name, c))
	}
	return out, nil
}

// File is an open regular file.
type File struct {
	f    *FS
	exts []extent
	size int64
	pos  int64
}

// Open opens the regular file at p for reading.
func (f *FS) Open(p string) (*File, error) {
	n, err := f.lookup(p)
	if err != nil {
		return nil, err
	}
	if n.mode()&modeType != modeReg {
		return nil, fmt.Errorf("ext4: %s is not a regular file", p)
	}
	if n.size() < 0 {
		return nil, fmt.Errorf("ext4: %s: corrupt size", p)
	}
	exts, _, err := f.extents(n)
	if err != nil {
		return nil, err
	}
	return &File{f: f, exts: exts, size: n.size()}, nil
}

// Size returns the file size.
func (r *File) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt.
func (r *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("ext4: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	n := len(p)
	var err error
	if int64(n) > r.size-off {
		n = int(r.size - off)
		err = io.EOF
	}
	if e := r.f.readData(r.exts, p[:n], off); e != nil {
		return 0, e
	}
	return n, err
}

// Read implements io.Reader.
func (r *File) Read(p []byte) (int, error) {
	if len(p) > 8<<20 {
		p = p[:8<<20]
	}
	n, err := r.ReadAt(p, r.pos)
	r.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadFile reads a whole file.
func (f *FS) ReadFile(p string) ([]byte, error) {
	r, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	if r.size > 1<<31 {
		return nil, fmt.Errorf("ext4: %s: %d bytes is too large to read at once", p, r.size)
	}
	b := make([]byte, r.size)
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}
