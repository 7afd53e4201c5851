package ext4

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"time"

	"travelkit/internal/durable"
	"travelkit/internal/killpoint"
)

// Features travelkit can write to; others make the volume read-only to it.
const (
	writeCompat   = compatHasJournal | compatExtAttr
	writeIncompat = incompatFiletype | incompatRecover | incompatExtents | incompatFlexBG | incompat64bit
	writeRoCompat = roSparseSuper | roLargeFile | roHugeFile | roGdtCsum | roDirNlink | roExtraIsize
)

// Modes of what travelkit creates: private to root, as restic's own repositories are
// (folders 0700, files 0600). A kit's volume holds the backups and their password; opened
// the stock way (cryptsetup open, mount), nothing of it may be readable by other users.
const (
	FileMode = 0o600
	DirMode  = 0o700
)

// ErrReadOnly is returned by write calls on a filesystem opened read-only or
// using features travelkit does not write.
var ErrReadOnly = errors.New("ext4: filesystem is read-only to travelkit")

func (f *FS) writeCheck() error {
	if !f.writable {
		return ErrReadOnly
	}
	c, i, r := le32(f.sb, sbFeatureCompat), le32(f.sb, sbFeatureIncompat), le32(f.sb, sbFeatureRoCompat)
	if c&^writeCompat != 0 || i&^writeIncompat != 0 || r&^writeRoCompat != 0 {
		return fmt.Errorf("%w: it uses features 0x%x/0x%x/0x%x that travelkit does not write (only volumes travelkit formatted are writable)",
			ErrReadOnly, c&^writeCompat, i&^writeIncompat, r&^writeRoCompat)
	}
	return nil
}

func (f *FS) writeSuper() error {
	put32(f.sb, sbWtime, uint32(f.now().Unix()))
	return f.writePart(sbOffset, f.sb)
}

// writePart writes p at byte offset off as whole filesystem blocks
// (read-modify-write), so the device below (a LUKS volume with 4 KiB
// sectors) only ever sees aligned, block-sized writes.
func (f *FS) writePart(off int64, p []byte) error {
	start := off / f.bs * f.bs
	end := (off + int64(len(p)) + f.bs - 1) / f.bs * f.bs
	if start == off && end == off+int64(len(p)) {
		_, err := f.dev.WriteAt(p, off)
		return err
	}
	buf := make([]byte, end-start)
	if err := f.readRaw(buf, start); err != nil {
		return err
	}
	if len(f.overlay) > 0 {
		for b := start / f.bs; b < end/f.bs; b++ {
			if o, ok := f.overlay[uint64(b)]; ok {
				copy(buf[b*f.bs-start:], o)
			}
		}
	}
	copy(buf[off-start:], p)
	_, err := f.dev.WriteAt(buf, start)
	return err
}

// begin marks the filesystem "not clean" before the first change, so a crash
// mid-write makes the kernel and e2fsck check it.
func (f *FS) begin() error {
	if err := f.writeCheck(); err != nil {
		return err
	}
	if f.began {
		f.removeLaterNames()
		return nil
	}
	f.writerCaches()
	put16(f.sb, sbState, le16(f.sb, sbState)&^stateValid)
	if err := f.writeSuper(); err != nil {
		return err
	}
	if err := f.flush(); err != nil {
		return err
	}
	f.began = true
	return nil
}

// writerCaches makes the bitmap caches and dirty sets a writer keeps.
func (f *FS) writerCaches() {
	if f.bbCache == nil {
		f.bbCache, f.ibCache = map[uint32][]byte{}, map[uint32][]byte{}
		f.dirtyBB, f.dirtyIB, f.dirtyGD = map[uint32]bool{}, map[uint32]bool{}, map[uint32]bool{}
	}
}

func (f *FS) gdChecksum(g uint32) {
	if le32(f.sb, sbFeatureRoCompat)&roGdtCsum == 0 {
		return
	}
	d := f.gd(g)
	var gb [4]byte
	put32(gb[:], 0, g)
	c := crc16(0xFFFF, f.sb[sbUUID:sbUUID+16])
	c = crc16(c, gb[:])
	c = crc16(c, d[:bgChecksum])
	if len(d) > 32 {
		c = crc16(c, d[32:])
	}
	put16(d, bgChecksum, c)
}

func (f *FS) groupStart(g uint32) uint64 { return f.firstData + uint64(g)*uint64(f.bpg) }

func (f *FS) groupBlocks(g uint32) uint32 {
	if g == f.groups-1 {
		return uint32(f.blocks - f.groupStart(g))
	}
	return f.bpg
}

// blockBitmap returns the (cached) block bitmap of group g.
func (f *FS) blockBitmap(g uint32) ([]byte, error) {
	if b, ok := f.bbCache[g]; ok {
		return b, nil
	}
	var b []byte
	if f.gdFlags(g)&bgBlockUninit != 0 {
		b = f.uninitBlockBitmap(g)
	} else {
		var err error
		if b, err = f.readBlock(f.gdBlockBitmap(g)); err != nil {
			return nil, err
		}
	}
	f.bbCache[g] = b
	return b, nil
}

// uninitBlockBitmap computes the bitmap of a BLOCK_UNINIT group: its
// superblock backup and descriptors, and any group's metadata placed in it.
func (f *FS) uninitBlockBitmap(g uint32) []byte {
	b := make([]byte, f.bs)
	start := f.groupStart(g)
	n := uint64(f.groupBlocks(g))
	mark := func(blk uint64) {
		if blk >= start && blk < start+n {
			setBit(b, int(blk-start))
		}
	}
	if hasSuper(g, le32(f.sb, sbFeatureRoCompat)&roSparseSuper != 0) {
		gdtBlocks := (uint64(len(f.gdt)) + uint64(f.bs) - 1) / uint64(f.bs)
		reserved := uint64(le16(f.sb, sbReservedGdtBlocks))
		for i := uint64(0); i < 1+gdtBlocks+reserved; i++ {
			mark(start + i)
		}
	}
	itb := (uint64(f.ipg)*uint64(f.inodeSize) + uint64(f.bs) - 1) / uint64(f.bs)
	for h := uint32(0); h < f.groups; h++ {
		mark(f.gdBlockBitmap(h))
		mark(f.gdInodeBitmap(h))
		for i := uint64(0); i < itb; i++ {
			mark(f.gdInodeTable(h) + i)
		}
	}
	for i := int(n); i < int(8*f.bs); i++ {
		setBit(b, i)
	}
	return b
}

func (f *FS) inodeBitmap(g uint32) ([]byte, error) {
	if b, ok := f.ibCache[g]; ok {
		return b, nil
	}
	var b []byte
	if f.gdFlags(g)&bgInodeUninit != 0 {
		b = make([]byte, f.bs)
		for i := int(f.ipg); i < int(8*f.bs); i++ {
			setBit(b, i)
		}
	} else {
		var err error
		if b, err = f.readBlock(f.gdInodeBitmap(g)); err != nil {
			return nil, err
		}
	}
	f.ibCache[g] = b
	return b, nil
}

func setBit(b []byte, i int)       { b[i>>3] |= 1 << (i & 7) }
func clearBit(b []byte, i int)     { b[i>>3] &^= 1 << (i & 7) }
func testBit(b []byte, i int) bool { return b[i>>3]&(1<<(i&7)) != 0 }

// allocBlocks allocates n blocks, as few extents as it can, searching from goal.
func (f *FS) allocBlocks(n uint64, goal uint64) ([]extent, error) {
	var out []extent
	if goal < f.firstData || goal >= f.blocks {
		goal = f.firstData
	}
	g0 := uint32((goal - f.firstData) / uint64(f.bpg))
	for k := uint32(0); k <= f.groups && n > 0; k++ {
		g := (g0 + k) % f.groups
		if f.gdFreeBlocks(g) == 0 {
			continue
		}
		bm, err := f.blockBitmap(g)
		if err != nil {
			return nil, err
		}
		start := f.groupStart(g)
		gn := int(f.groupBlocks(g))
		i := 0
		if k == 0 {
			i = int(goal - start)
		}
		for ; i < gn && n > 0; i++ {
			if testBit(bm, i) {
				continue
			}
			j := i
			for j < gn && !testBit(bm, j) && uint64(j-i) < n && j-i < maxInitExtentLen {
				j++
			}
			for x := i; x < j; x++ {
				setBit(bm, x)
			}
			cnt := uint32(j - i)
			f.setGD16pair(g, bgFreeBlocks, bgFreeBlocksHi, f.gdFreeBlocks(g)-cnt)
			fl := le16(f.gd(g), bgFlags) &^ bgBlockUninit
			put16(f.gd(g), bgFlags, fl)
			f.dirtyBB[g], f.dirtyGD[g] = true, true
			pb := start + uint64(i)
			if len(out) > 0 {
				p := &out[len(out)-1]
				if p.pblk+uint64(p.len) == pb && p.len+cnt <= maxInitExtentLen {
					p.len += cnt
					n -= uint64(cnt)
					i = j - 1
					continue
				}
			}
			out = append(out, extent{pblk: pb, len: cnt})
			n -= uint64(cnt)
			i = j - 1
		}
	}
	if n > 0 {
		f.freeExtents(out)
		return nil, fmt.Errorf("%w (%d more blocks needed)", ErrNoSpace, n)
	}
	return out, nil
}

func (f *FS) freeBlock(b uint64) {
	g := uint32((b - f.firstData) / uint64(f.bpg))
	bm, err := f.blockBitmap(g)
	if err != nil {
		return
	}
	i := int(b - f.groupStart(g))
	if testBit(bm, i) {
		clearBit(bm, i)
		f.setGD16pair(g, bgFreeBlocks, bgFreeBlocksHi, f.gdFreeBlocks(g)+1)
		f.dirtyBB[g], f.dirtyGD[g] = true, true
	}
}

func (f *FS) freeExtents(exts []extent) {
	for _, e := range exts {
		for i := uint64(0); i < uint64(e.len); i++ {
			f.freeBlock(e.pblk + i)
		}
	}
}

// allocInode allocates an inode, preferring group pref, and zeroes its slot
// (and any never-used slots below it) in the lazily initialised inode table.
func (f *FS) allocInode(dir bool, pref uint32) (uint32, error) {
	for k := uint32(0); k < f.groups; k++ {
		g := (pref + k) % f.groups
		if f.gdFreeInodes(g) == 0 {
			continue
		}
		bm, err := f.inodeBitmap(g)
		if err != nil {
			return 0, err
		}
		for i := 0; i < int(f.ipg); i++ {
			if testBit(bm, i) {
				continue
			}
			ino := g*f.ipg + uint32(i) + 1
			if ino < le32(f.sb, sbFirstIno) {
				continue
			}
			// Lazy inode table: slots at or above ipg-itable_unused were never written.
			hw := f.ipg - f.gdItableUnused(g)
			if le32(f.sb, sbFeatureRoCompat)&roGdtCsum != 0 && uint32(i) >= hw && f.gdFlags(g)&bgItableZeroed == 0 {
				z := make([]byte, int(uint32(i)+1-hw)*f.inodeSize)
				off := int64(f.gdInodeTable(g))*f.bs + int64(hw)*int64(f.inodeSize)
				if err := f.writePart(off, z); err != nil {
					return 0, err
				}
			}
			if uint32(i) >= hw {
				f.setGD16pair(g, bgItableUnused, bgItableUnusedHi, f.ipg-uint32(i)-1)
			}
			setBit(bm, i)
			f.setGD16pair(g, bgFreeInodes, bgFreeInodesHi, f.gdFreeInodes(g)-1)
			if dir {
				f.setGD16pair(g, bgUsedDirs, bgUsedDirsHi, f.gdUsedDirs(g)+1)
			}
			put16(f.gd(g), bgFlags, f.gdFlags(g)&^bgInodeUninit)
			f.dirtyIB[g], f.dirtyGD[g] = true, true
			return ino, nil
		}
	}
	return 0, errors.New("ext4: no free inodes left on the volume")
}

// writeMeta writes dirty bitmaps and group descriptors. A bitmap and its descriptor
// are two writes, and a kill -9 may land between them. The order makes the only
// states a kill can leave a bitmap that marks at least as many blocks (inodes) used
// as its descriptor counts: a leak until e2fsck. So a group whose free count grew (a
// net free: a trimmed or removed file, whose inode already dropped the blocks) gets
// its descriptor written BEFORE its bitmap; a group whose free count fell or stayed
// (an allocation: nothing refers to the blocks yet) gets its bitmap written first. A
// power cut may keep either write without the other (there is no flush between
// them): the next writable open then repairs the volume (repairAfterCrash), which
// marks used whatever an inode in use claims before it trusts a bitmap.
func (f *FS) writeMeta() error {
	freed := func(g uint32, lo, hi int) bool {
		if f.gdtDisk == nil {
			return false
		}
		d := f.gdtDisk[int(g)*f.descSize:][:f.descSize]
		v := uint32(le16(d, lo))
		if f.descSize >= 64 {
			v |= uint32(le16(d, hi)) << 16
		}
		return f.gd16pair(g, lo, hi) > v
	}
	// decided before the descriptors are written (which updates gdtDisk)
	bbFreed, ibFreed := map[uint32]bool{}, map[uint32]bool{}
	for g := range f.dirtyBB {
		bbFreed[g] = freed(g, bgFreeBlocks, bgFreeBlocksHi)
	}
	for g := range f.dirtyIB {
		ibFreed[g] = freed(g, bgFreeInodes, bgFreeInodesHi)
	}
	bitmaps := func(after bool) error {
		for _, g := range sortedGroups(f.dirtyBB) {
			if bbFreed[g] == after {
				if _, err := f.dev.WriteAt(f.bbCache[g], int64(f.gdBlockBitmap(g))*f.bs); err != nil {
					return err
				}
			}
		}
		for _, g := range sortedGroups(f.dirtyIB) {
			if ibFreed[g] == after {
				if _, err := f.dev.WriteAt(f.ibCache[g], int64(f.gdInodeBitmap(g))*f.bs); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := bitmaps(false); err != nil {
		return err
	}
	blocks := map[int64]bool{}
	for _, g := range sortedGroups(f.dirtyGD) {
		f.gdChecksum(g)
		blocks[int64(g)*int64(f.descSize)/f.bs] = true
	}
	for b := range blocks {
		s := b * f.bs
		e := min(s+f.bs, int64(len(f.gdt)))
		blk := make([]byte, f.bs) // the tail of the last descriptor block is unused
		copy(blk, f.gdt[s:e])
		if _, err := f.dev.WriteAt(blk, (int64(f.gdtBlock)+b)*f.bs); err != nil {
			return err
		}
		if f.gdtDisk != nil {
			copy(f.gdtDisk[s:e], f.gdt[s:e])
		}
	}
	if err := bitmaps(true); err != nil {
		return err
	}
	clear(f.dirtyBB)
	clear(f.dirtyIB)
	clear(f.dirtyGD)
	return nil
}

func sortedGroups(m map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(m))
	for g := range m {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (f *FS) writeInode(n *inode) error {
	blk, off, err := f.inodeLoc(n.ino)
	if err != nil {
		return err
	}
	return f.writePart(int64(blk)*f.bs+int64(off), n.b)
}

func (f *FS) newInode(ino uint32, mode uint16, t time.Time) *inode {
	b := make([]byte, f.inodeSize)
	put16(b, iMode, mode)
	ts := uint32(t.Unix())
	put32(b, iAtime, ts)
	put32(b, iCtime, ts)
	put32(b, iMtime, ts)
	put32(b, iFlags, flagExtents)
	if f.inodeSize > 128 {
		put16(b, iExtraIsize, 32)
		put32(b, iCrtime, ts)
	}
	n := &inode{ino: ino, b: b}
	f.setExtentsInline(n, nil)
	return n
}

func (f *FS) setExtentsInline(n *inode, exts []extent) {
	ib := n.b[iBlock : iBlock+iBlockSize]
	clear(ib)
	put16(ib, ehMagic, extMagic)
	put16(ib, ehEntries, uint16(len(exts)))
	put16(ib, ehMax, 4)
	for i, e := range exts {
		putExtent(ib[ehSize+ehSize*i:], e)
	}
}

func putExtent(b []byte, e extent) {
	put32(b, eeBlock, e.lblk)
	l := uint16(e.len)
	if e.uninit {
		l += maxInitExtentLen
	}
	put16(b, eeLen, l)
	put16(b, eeStartHi, uint16(e.pblk>>32))
	put32(b, eeStartLo, uint32(e.pblk))
}

// setExtents stores exts in n (depth 0, or depth 1 with new leaf blocks).
// It sets i_blocks from dataBlocks plus tree blocks. The caller frees the
// old tree's blocks once the inode is written.
func (f *FS) setExtents(n *inode, exts []extent, dataBlocks uint64) error {
	per := int((f.bs - ehSize) / ehSize)
	var tree []uint64
	if len(exts) <= 4 {
		f.setExtentsInline(n, exts)
	} else {
		leaves := (len(exts) + per - 1) / per
		if leaves > 4 {
			return fmt.Errorf("ext4: file too fragmented (%d extents)", len(exts))
		}
		lb, err := f.allocBlocks(uint64(leaves), exts[0].pblk)
		if err != nil {
			return err
		}
		for _, e := range lb {
			for i := uint64(0); i < uint64(e.len); i++ {
				tree = append(tree, e.pblk+i)
			}
		}
		ib := n.b[iBlock : iBlock+iBlockSize]
		clear(ib)
		put16(ib, ehMagic, extMagic)
		put16(ib, ehEntries, uint16(leaves))
		put16(ib, ehMax, 4)
		put16(ib, ehDepth, 1)
		for li := 0; li < leaves; li++ {
			part := exts[li*per : min((li+1)*per, len(exts))]
			blk := make([]byte, f.bs)
			put16(blk, ehMagic, extMagic)
			put16(blk, ehEntries, uint16(len(part)))
			put16(blk, ehMax, uint16(per))
			for i, e := range part {
				putExtent(blk[ehSize+ehSize*i:], e)
			}
			if _, err := f.dev.WriteAt(blk, int64(tree[li])*f.bs); err != nil {
				return err
			}
			ix := ib[ehSize+ehSize*li:]
			put32(ix, eiBlock, part[0].lblk)
			put32(ix, eiLeafLo, uint32(tree[li]))
			put16(ix, eiLeafHi, uint16(tree[li]>>32))
		}
	}
	sectors := (dataBlocks + uint64(len(tree))) * uint64(f.bs/512)
	put32(n.b, iBlocksLo, uint32(sectors))
	put16(n.b, iBlocksHi, uint16(sectors>>32))
	return nil
}

func (n *inode) setSize(s int64) {
	put32(n.b, iSizeLo, uint32(s))
	put32(n.b, iSizeHi, uint32(uint64(s)>>32))
}

func dirRecLen(nameLen int) int { return (8 + nameLen + 3) &^ 3 }

// addEntry links name -> ino in directory dir (rewriting dir's inode).
func (f *FS) addEntry(dir *inode, name string, ino uint32, ft uint8) error {
	f.namedAt, f.named = f.tickets, true // durable once a flush started after this completes
	exts, tree, err := f.extents(dir)
	if err != nil {
		return err
	}
	need := dirRecLen(len(name))
	size := dir.size()
	blk := make([]byte, f.bs)
	put := func(b []byte, off, rl int) {
		put32(b, off, ino)
		put16(b, off+4, uint16(rl))
		b[off+6] = byte(len(name))
		b[off+7] = ft
		copy(b[off+8:], name)
	}
	// Look for slack in existing blocks, from the last.
	for lb := size/f.bs - 1; lb >= 0; lb-- {
		pb, ok := mapBlock(exts, uint32(lb))
		if !ok {
			continue
		}
		if err := f.readBlocks(blk, pb); err != nil {
			return err
		}
		for off := 0; off+8 <= len(blk); {
			rl := int(le16(blk, off+4))
			if rl < 8 || off+rl > len(blk) {
				return fmt.Errorf("ext4: directory inode %d corrupt", dir.ino)
			}
			used := 0
			if le32(blk, off) != 0 {
				used = dirRecLen(int(blk[off+6]))
			}
			if rl-used >= need {
				if used == 0 {
					put(blk, off, rl)
				} else {
					put16(blk, off+4, uint16(used))
					put(blk, off+used, rl-used)
				}
				if _, err := f.dev.WriteAt(blk, int64(pb)*f.bs); err != nil {
					return err
				}
				return f.touchDir(dir, ft)
			}
			off += rl
		}
		break // only the last block is tried: directories stay compact enough
	}
	// New block.
	goal := uint64(0)
	if len(exts) > 0 {
		goal = exts[len(exts)-1].pblk + uint64(exts[len(exts)-1].len)
	}
	nb, err := f.allocBlocks(1, goal)
	if err != nil {
		return err
	}
	clear(blk)
	put(blk, 0, int(f.bs))
	if err := f.writeMeta(); err != nil {
		return err
	}
	if _, err := f.dev.WriteAt(blk, int64(nb[0].pblk)*f.bs); err != nil {
		return err
	}
	lblk := uint32(size / f.bs)
	if l := len(exts); l > 0 && exts[l-1].pblk+uint64(exts[l-1].len) == nb[0].pblk &&
		exts[l-1].lblk+exts[l-1].len == lblk && exts[l-1].len < maxInitExtentLen {
		exts[l-1].len++
	} else {
		exts = append(exts, extent{lblk: lblk, len: 1, pblk: nb[0].pblk})
	}
	dir.setSize(size + f.bs)
	if err := f.setExtents(dir, exts, uint64(size/f.bs)+1); err != nil {
		return err
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	// The new block and its bitmap durable before the folder's inode points at it: a
	// power cut must not leave a folder whose block is garbage or marked free.
	if err := f.flush(); err != nil {
		return err
	}
	if err := f.touchDir(dir, ft); err != nil {
		return err
	}
	for _, b := range tree {
		f.freeBlock(b)
	}
	return nil
}

func (f *FS) touchDir(dir *inode, ft uint8) error {
	ts := uint32(f.now().Unix())
	put32(dir.b, iMtime, ts)
	put32(dir.b, iCtime, ts)
	if ft == ftDir {
		l := le16(dir.b, iLinks)
		if l >= 64999 || l == 1 {
			l = 1 // dir_nlink: too many subdirectories to count
		} else {
			l++
		}
		put16(dir.b, iLinks, l)
	}
	return f.writeInode(dir)
}

func mapBlock(exts []extent, l uint32) (uint64, bool) {
	for _, e := range exts {
		if l >= e.lblk && l < e.lblk+e.len && !e.uninit {
			return e.pblk + uint64(l-e.lblk), true
		}
	}
	return 0, false
}

func (f *FS) lookupIn(dir *inode, name string) (uint32, error) {
	ents, err := f.readDirInode(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if e.Name == name {
			return e.Ino, nil
		}
	}
	return 0, nil
}

func validName(s string) error {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return fmt.Errorf("ext4: bad name %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] == '/' {
			return fmt.Errorf("ext4: bad name %q", s)
		}
	}
	return nil
}

// MkdirAll creates directory p and missing parents (DirMode, owned by root).
func (f *FS) MkdirAll(p string) error {
	if n, err := f.lookup(p); err == nil && n.isDir() {
		return nil // there already: nothing to write or flush
	}
	_, err := f.mkdirAll(p)
	if err != nil {
		return err
	}
	return f.sync()
}

// MkdirAllEach does MkdirAll for each of ps with one flush at the end instead of one
// per folder (a repository's 260 folders: two flushes, not 260).
func (f *FS) MkdirAllEach(ps ...string) error {
	for _, p := range ps {
		if _, err := f.mkdirAllLater(p); err != nil {
			return err
		}
	}
	if err := f.linkPending(); err != nil {
		return err
	}
	return f.sync()
}

// mkdirAll creates p and its missing parents and returns p's inode. New folders are
// complete and durable (a flush) before any of their names is written.
func (f *FS) mkdirAll(p string) (*inode, error) {
	cur, err := f.mkdirAllLater(p)
	if err != nil {
		return nil, err
	}
	if len(f.pending) == 0 {
		return cur, nil
	}
	if err := f.linkPending(); err != nil {
		return nil, err
	}
	return f.readInode(cur.ino) // linking may have changed it
}

// pendingLink is a new folder, its inode and name written by linkPending.
type pendingLink struct {
	parent uint32 // the folder that gets the name
	name   string
	ino    uint32
	n      *inode
}

// linkPending writes the folders made since the last call: their blocks and bitmaps
// (written already) made durable by a flush, then their inodes, a flush, then their
// names. A power cut can then leave a folder without its name (an unconnected folder
// for e2fsck, a leak), never a name of a folder whose inode or block was lost, nor an
// inode pointing at a block not written.
func (f *FS) linkPending() error {
	if len(f.pending) == 0 {
		return nil
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	if err := f.flush(); err != nil { // their blocks and bitmaps
		return err
	}
	for _, l := range f.pending {
		if err := f.writeInode(l.n); err != nil {
			return err
		}
	}
	if err := f.flush(); err != nil { // their inodes
		return err
	}
	for len(f.pending) > 0 {
		l := f.pending[0]
		parent, err := f.readInode(l.parent) // fresh: earlier links rewrote it
		if err != nil {
			return err
		}
		if err := f.addEntry(parent, l.name, l.ino, ftDir); err != nil {
			return err
		}
		f.pending = f.pending[1:]
	}
	f.pending = nil
	return f.writeMeta()
}

// pendingIn returns the inode of a folder made but not yet named in dir.
func (f *FS) pendingIn(dir uint32, name string) *inode {
	for _, l := range f.pending {
		if l.parent == dir && l.name == name {
			return l.n
		}
	}
	return nil
}

// mkdirAllLater is mkdirAll with the names of new folders left for linkPending.
func (f *FS) mkdirAllLater(p string) (*inode, error) {
	if err := f.begin(); err != nil {
		return nil, err
	}
	parts, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	cur, err := f.readInode(rootIno)
	if err != nil {
		return nil, err
	}
	for i, name := range parts {
		if err := validName(name); err != nil {
			return nil, err
		}
		ino, err := f.lookupIn(cur, name)
		if err != nil {
			return nil, err
		}
		if ino == 0 {
			if n := f.pendingIn(cur.ino, name); n != nil {
				cur = n
				continue
			}
		}
		if ino != 0 {
			c, err := f.readInode(ino)
			if err != nil {
				return nil, err
			}
			if !c.isDir() {
				return nil, &fs.PathError{Op: "mkdir", Path: joinParts(parts[:i+1]), Err: errors.New("not a directory")}
			}
			cur = c
			continue
		}
		if cur, err = f.mkdirIn(cur, name); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// splitFilePath splits the path of a file to write into its folder's path (as mkdirAll
// takes it) and its name, refusing an empty path and a name ext4 cannot hold.
func splitFilePath(p string) (dir, name string, err error) {
	parts, err := cleanPath(p)
	if err != nil {
		return "", "", err
	}
	if len(parts) == 0 {
		return "", "", fmt.Errorf("ext4: empty file name")
	}
	name = parts[len(parts)-1]
	if err := validName(name); err != nil {
		return "", "", err
	}
	return joinParts(parts[:len(parts)-1]), name, nil
}

func joinParts(p []string) string {
	s := ""
	for i, x := range p {
		if i > 0 {
			s += "/"
		}
		s += x
	}
	return s
}

func (f *FS) mkdirIn(parent *inode, name string) (*inode, error) {
	pg := (parent.ino - 1) / f.ipg
	ino, err := f.allocInode(true, pg)
	if err != nil {
		return nil, err
	}
	g := (ino - 1) / f.ipg
	be, err := f.allocBlocks(1, f.groupStart(g))
	if err != nil {
		return nil, err
	}
	// Allocation first: bitmaps and descriptors reach the disk before anything points at them.
	if err := f.writeMeta(); err != nil {
		return nil, err
	}
	blk := make([]byte, f.bs)
	put32(blk, 0, ino)
	put16(blk, 4, 12)
	blk[6], blk[7] = 1, ftDir
	blk[8] = '.'
	put32(blk, 12, parent.ino)
	put16(blk, 16, uint16(f.bs-12))
	blk[18], blk[19] = 2, ftDir
	blk[20], blk[21] = '.', '.'
	if _, err := f.dev.WriteAt(blk, int64(be[0].pblk)*f.bs); err != nil {
		return nil, err
	}
	n := f.newInode(ino, modeDir|DirMode, f.now())
	put16(n.b, iLinks, 2)
	n.setSize(f.bs)
	be[0].lblk = 0
	if err := f.setExtents(n, be, 1); err != nil {
		return nil, err
	}
	f.pending = append(f.pending, pendingLink{parent: parent.ino, name: name, ino: ino, n: n})
	return n, f.writeMeta()
}

// WriteFile writes size bytes from r as the regular file p (FileMode, owned by root; a
// replaced file keeps its mode),
// creating parent directories and replacing an existing file. Order on the
// device: allocation (bitmaps, descriptors); then for a new file its data and
// inode, a flush, its directory entry, a flush; for a replaced file its data,
// a flush, the inode rewritten in place, a flush, then the old blocks freed.
// A crash therefore leaves either the old state or the complete new file,
// and at worst leaked blocks or an unlinked inode that e2fsck reclaims (the
// filesystem is marked not clean while travelkit writes, so it gets checked).
func (f *FS) WriteFile(p string, r io.Reader, size int64, mtime time.Time) error {
	return f.writeFile(p, r, size, mtime, false)
}

// WriteFileLater is WriteFile for a new file whose name need not be durable when it
// returns: it skips WriteFile's last flush, and the name becomes durable with the next
// flush of the FS (the next file's, which comes before that file's name, or Close's).
// The file is complete on the device before its name is written, as with WriteFile. A
// power cut before that flush may lose the name (the file is then an unattached inode
// for e2fsck); names written later never survive without it. Remove and RemoveName
// flush first while such a name is not durable, so no removal can outlive it. A
// replaced file is written as by WriteFile.
func (f *FS) WriteFileLater(p string, r io.Reader, size int64, mtime time.Time) error {
	return f.writeFile(p, r, size, mtime, true)
}

func (f *FS) writeFile(p string, r io.Reader, size int64, mtime time.Time, later bool) error {
	if err := f.begin(); err != nil {
		return err
	}
	dirPath, name, err := splitFilePath(p)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("ext4: negative size")
	}
	dir, err := f.mkdirAll(dirPath)
	if err != nil {
		return err
	}
	if mtime.IsZero() {
		mtime = f.now()
	}
	old, err := f.lookupIn(dir, name)
	if err != nil {
		return err
	}
	nblocks := uint64((size + f.bs - 1) / f.bs)
	goal := f.groupStart((dir.ino - 1) / f.ipg)
	if f.lastGroup != 0 {
		goal = f.groupStart(f.lastGroup)
	}
	exts, err := f.allocBlocks(nblocks, goal)
	if errors.Is(err, ErrNoSpace) {
		// blocks open Streams were given and have not written yet
		var freed bool
		if freed, err = f.reclaim(nil); err == nil && freed {
			exts, err = f.allocBlocks(nblocks, goal)
		} else if err == nil {
			err = ErrNoSpace
		}
	}
	if err != nil {
		return err
	}
	var lb uint32
	for i := range exts {
		exts[i].lblk = lb
		lb += exts[i].len
	}
	if len(exts) > 0 {
		last := exts[len(exts)-1]
		f.lastGroup = uint32((last.pblk + uint64(last.len) - 1 - f.firstData) / uint64(f.bpg))
	}
	var n *inode
	var oldExts []extent
	var oldTree []uint64
	if old != 0 {
		if n, err = f.readInode(old); err != nil {
			return err
		}
		if n.mode()&modeType != modeReg {
			return fmt.Errorf("ext4: %s exists and is not a regular file", p)
		}
		if oldExts, oldTree, err = f.extents(n); err != nil {
			return err
		}
	} else {
		ino, err := f.allocInode(false, (dir.ino-1)/f.ipg)
		if err != nil {
			f.freeExtents(exts)
			return err
		}
		n = f.newInode(ino, modeReg|FileMode, mtime)
		put16(n.b, iLinks, 1)
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	return f.writeFileData(&fileWrite{path: p, src: r, size: size, mtime: mtime, dir: dir, name: name,
		n: n, old: old, exts: exts, oldExts: oldExts, oldTree: oldTree, nblocks: nblocks, later: later && old == 0})
}

// fileWrite is a WriteFile whose blocks and inode are allocated: what it writes, where,
// and what it replaces.
type fileWrite struct {
	path    string // as given, for messages
	src     io.Reader
	size    int64
	mtime   time.Time
	dir     *inode // the folder that holds the file
	name    string
	n       *inode   // the file's inode: a new one, or the replaced file's, rewritten in place
	old     uint32   // the replaced file's inode number; 0 for a new file
	exts    []extent // the new data blocks
	oldExts []extent // the replaced file's data blocks, freed once the inode points away
	oldTree []uint64 // the replaced file's extent tree blocks, freed with them
	nblocks uint64   // data blocks of the new content
	later   bool     // no flush after the name (WriteFileLater)
}

// writeFileData writes the data, then the inode, then (for a new file) the directory
// entry, in the order WriteFile documents.
func (f *FS) writeFileData(w *fileWrite) (err error) {
	p, r, size, mtime, dir, name := w.path, w.src, w.size, w.mtime, w.dir, w.name
	n, old, exts, oldExts, oldTree, nblocks := w.n, w.old, w.exts, w.oldExts, w.oldTree, w.nblocks
	linked := false
	defer func() {
		// A failure before the inode is in use (a short source, a device
		// error) gives back the new blocks and the new inode.
		if err == nil || linked {
			return
		}
		f.freeExtents(exts)
		if old == 0 {
			g := (n.ino - 1) / f.ipg
			if ib, e := f.inodeBitmap(g); e == nil {
				clearBit(ib, int((n.ino-1)%f.ipg))
				f.setGD16pair(g, bgFreeInodes, bgFreeInodesHi, f.gdFreeInodes(g)+1)
				f.dirtyIB[g], f.dirtyGD[g] = true, true
			}
		}
		// The write failed already, and that error is returned. Metadata not written
		// here stays dirty and is written by the next write or Close; if the device is
		// gone, the filesystem stays marked not clean and e2fsck reclaims the blocks.
		_ = f.writeMeta()
	}()
	// Data, in pieces of up to 1 MiB (each a whole number of blocks: the LUKS
	// volume below encrypts them without a read-modify-write)
	buf := make([]byte, min(1<<20, max(int64(nblocks), 1)*f.bs))
	var done int64
	for _, e := range exts {
		off := int64(e.pblk) * f.bs
		left := int64(e.len) * f.bs
		for left > 0 {
			chunk := min(int64(len(buf)), left)
			want := min(chunk, size-done)
			if want > 0 {
				if _, err := io.ReadFull(r, buf[:want]); err != nil {
					return fmt.Errorf("ext4: %s: reading source: %w", p, err)
				}
			}
			clear(buf[max(want, 0):chunk])
			if _, err := f.dev.WriteAt(buf[:chunk], off); err != nil {
				return err
			}
			done += max(want, 0)
			off += chunk
			left -= chunk
		}
	}
	killpoint.Here("ext4: file data written")
	if old != 0 {
		// The data must be durable before the inode points at it.
		if err := f.flush(); err != nil {
			return err
		}
	}
	// Inode (in place when replacing: the old blocks are freed after).
	n.setSize(size)
	put32(n.b, iMtime, uint32(mtime.Unix()))
	put32(n.b, iCtime, uint32(f.now().Unix()))
	if err := f.setExtents(n, exts, nblocks); err != nil {
		return err
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	if err := f.writeInode(n); err != nil {
		return err
	}
	if old != 0 {
		linked = true
		// The inode pointing at the new blocks is durable before the old blocks are
		// marked free (durable with the next flush): a power cut cannot leave the old
		// inode pointing at blocks marked free, only the old blocks leaked.
		if err := f.writeMeta(); err != nil {
			return err
		}
		if err := f.sync(); err != nil {
			return err
		}
		f.freeExtents(oldExts)
		for _, b := range oldTree {
			f.freeBlock(b)
		}
		return f.writeMeta()
	} else {
		if err := f.flush(); err != nil {
			return err
		}
		killpoint.Here("ext4: file inode written")
		linked = true // from here on the inode may be reachable
		if err := f.addEntry(dir, name, n.ino, ftReg); err != nil {
			return err
		}
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	if w.later {
		return nil // the next flush makes the name durable
	}
	return f.sync()
}

// superCounts sets the superblock's free counts from the group descriptors
// (the kernel keeps only the descriptors exact).
func (f *FS) superCounts() {
	var fb uint64
	var fi uint32
	for g := uint32(0); g < f.groups; g++ {
		fb += uint64(f.gdFreeBlocks(g))
		fi += f.gdFreeInodes(g)
	}
	put32(f.sb, sbFreeBlocksLo, uint32(fb))
	if le32(f.sb, sbFeatureIncompat)&incompat64bit != 0 {
		put32(f.sb, sbFreeBlocksHi, uint32(fb>>32))
	}
	put32(f.sb, sbFreeInodes, fi)
}

func (f *FS) sync() error { return f.flush() }

// Close writes the free counts to the superblock, marks the filesystem clean
// and flushes. A read-only FS has nothing to write.
func (f *FS) Close() error {
	if !f.began {
		return nil
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	f.superCounts()
	if err := f.flush(); err != nil {
		return err
	}
	if len(f.unnamed) > 0 {
		// committed Streams' temporary names: their final names are durable now
		f.removeLaterNames()
		if err := f.writeMeta(); err != nil {
			return err
		}
		f.superCounts()
		if err := f.flush(); err != nil {
			return err
		}
	}
	put16(f.sb, sbState, le16(f.sb, sbState)|stateValid)
	if err := f.writeSuper(); err != nil {
		return err
	}
	f.began = false
	return f.flush()
}

// flushStart hands out the ticket of a flush about to start (see FS.tickets).
func (f *FS) flushStart() uint64 {
	t := f.tickets
	f.tickets++
	return t
}

// flushDone records that the flush with ticket t completed: everything written
// before it started is durable.
func (f *FS) flushDone(t uint64) { f.flushed = max(f.flushed, t+1) }

// flush makes everything written so far durable.
func (f *FS) flush() error {
	t := f.flushStart()
	if err := durable.Flush(f.dev); err != nil {
		return err
	}
	f.flushDone(t)
	return nil
}

// laterName is a Stream's temporary name, removed once a flush made the file's final
// name durable (Stream.Commit).
type laterName struct {
	dir, name string
	ticket    uint64 // the file's final name is durable once flushed > ticket
}

// removeLaterNames removes the temporary names of committed Streams whose final names
// are durable by now (a flush completed since they were written). Each removal is made
// durable by the next flush, like the rest of the write that calls this. A name whose
// removal fails stays: the next opening's clean-up (RemoveName) drops it.
func (f *FS) removeLaterNames() {
	if len(f.unnamed) == 0 {
		return
	}
	keep := f.unnamed[:0]
	removed := false
	for _, l := range f.unnamed {
		if f.flushed <= l.ticket {
			keep = append(keep, l)
			continue
		}
		if dir, err := f.lookup(l.dir); err == nil {
			if f.removeEntry(dir, l.name) == nil {
				removed = true
			}
		}
	}
	f.unnamed = keep
	if removed {
		_ = f.writeMeta()
	}
}

// laterName reports whether dir/name is a temporary name removeLaterNames will remove.
func (f *FS) laterName(dir, name string) bool {
	for _, l := range f.unnamed {
		if l.dir == dir && l.name == name {
			return true
		}
	}
	return false
}
