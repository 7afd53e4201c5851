package ext4

import (
	"crypto/rand"
	"fmt"
	"time"

	"travelkit/internal/durable"
)

// FormatOptions for Format.
type FormatOptions struct {
	Label string // up to 16 bytes
	UUID  [16]byte
	// InodeRatio is bytes per inode (default 16384, minimum 16384).
	InodeRatio int64
	// JournalBlocks is the journal size in 4 KiB blocks (default by volume size).
	JournalBlocks uint32
	Time          time.Time
}

const (
	blockSize   = 4096
	blocksPerGp = 32768
	inodeSz     = 256
	flexLog     = 4
)

type layout struct {
	blocks    uint64
	groups    uint32
	ipg       uint32
	itBlocks  uint64
	gdtBlocks uint64
	bb, ib    []uint64
	it        []uint64
	flexEnd   []uint64 // per group: first block after metadata placed in it (0 if none)
}

func planLayout(size int64, ratio int64) (*layout, error) {
	blocks := uint64(size / blockSize)
	if blocks >= 1<<32 {
		return nil, fmt.Errorf("ext4: volume of %d bytes is too large (16 TiB at most)", size)
	}
	if blocks < 4096 {
		return nil, fmt.Errorf("ext4: volume of %d bytes is too small (16 MiB at least)", size)
	}
	for {
		l := &layout{blocks: blocks}
		l.groups = uint32((blocks + blocksPerGp - 1) / blocksPerGp)
		last := blocks - uint64(l.groups-1)*blocksPerGp
		if l.groups > 1 && last < 1024 {
			blocks -= last // drop a tiny last group
			continue
		}
		inodes := uint64(blocks) * blockSize / uint64(ratio)
		ipg := (inodes + uint64(l.groups) - 1) / uint64(l.groups)
		per := uint64(blockSize / inodeSz)
		ipg = (ipg + per - 1) / per * per
		if ipg < per {
			ipg = per
		}
		if ipg > blocksPerGp {
			ipg = blocksPerGp
		}
		l.ipg = uint32(ipg)
		l.itBlocks = ipg * inodeSz / blockSize
		l.gdtBlocks = (uint64(l.groups)*32 + blockSize - 1) / blockSize
		l.bb = make([]uint64, l.groups)
		l.ib = make([]uint64, l.groups)
		l.it = make([]uint64, l.groups)
		l.flexEnd = make([]uint64, l.groups)
		ok := true
		flex := uint32(1) << flexLog
		for fg := uint32(0); fg < l.groups; fg += flex {
			n := min(flex, l.groups-fg)
			start := uint64(fg) * blocksPerGp
			if hasSuper(fg, true) {
				start += 1 + l.gdtBlocks
			}
			p := start
			for i := uint32(0); i < n; i++ {
				l.bb[fg+i] = p
				p++
			}
			for i := uint32(0); i < n; i++ {
				l.ib[fg+i] = p
				p++
			}
			for i := uint32(0); i < n; i++ {
				l.it[fg+i] = p
				p += l.itBlocks
			}
			l.flexEnd[fg] = p
			gend := min(uint64(fg+1)*blocksPerGp, blocks)
			if p > gend {
				ok = false
			}
		}
		if !ok {
			if l.groups == 1 {
				return nil, fmt.Errorf("ext4: volume of %d bytes is too small", size)
			}
			blocks = uint64(l.groups-1) * blocksPerGp
			continue
		}
		return l, nil
	}
}

func defaultJournalBlocks(blocks uint64) uint32 {
	switch {
	case blocks < 32768: // < 128 MiB
		return 1024
	case blocks < 256*1024: // < 1 GiB
		return 4096
	case blocks < 4*1024*1024: // < 16 GiB
		return 16384
	default:
		return 32768 // 128 MiB
	}
}

// Format creates an ext4 filesystem on dev. Only metadata is written:
// superblocks and descriptor tables, bitmaps, the first inodes of group 0,
// the root and lost+found directories and the journal superblock. Inode
// tables are left for the kernel to zero lazily (uninit_bg: unused inodes
// past bg_itable_unused are never read) and the journal is not zeroed (its
// superblock says it is empty).
func Format(dev Device, opt FormatOptions) error {
	if err := opt.setDefaults(); err != nil {
		return err
	}
	l, err := planLayout(dev.Size(), opt.InodeRatio)
	if err != nil {
		return err
	}
	jblocks := opt.JournalBlocks
	if jblocks == 0 {
		jblocks = defaultJournalBlocks(l.blocks)
	}
	if jblocks < 1024 || uint64(jblocks) > l.blocks/4 {
		return fmt.Errorf("ext4: journal of %d blocks does not fit a volume of %d blocks", jblocks, l.blocks)
	}
	sb, err := newSuperblock(l, opt)
	if err != nil {
		return err
	}
	f := &FS{dev: dev, sb: sb, bs: blockSize, blocks: l.blocks, groups: l.groups, bpg: blocksPerGp, ipg: l.ipg,
		inodeSize: inodeSz, descSize: 32, gdtBlock: 1, writable: true, now: func() time.Time { return opt.Time },
		gdt: make([]byte, int(l.groups)*32)}
	f.bbCache, f.ibCache = map[uint32][]byte{}, map[uint32][]byte{}
	f.dirtyBB, f.dirtyIB, f.dirtyGD = map[uint32]bool{}, map[uint32]bool{}, map[uint32]bool{}

	f.formatGroups(l)
	if err := f.formatReservedInodes(l); err != nil {
		return err
	}
	jend, err := f.formatJournal(l, jblocks, opt)
	if err != nil {
		return err
	}
	if err := f.formatRootDirs(l, jend, opt.Time); err != nil {
		return err
	}
	return f.formatFinish(l)
}

// setDefaults checks the options and fills in what was left out.
func (opt *FormatOptions) setDefaults() error {
	if len(opt.Label) > 16 {
		return fmt.Errorf("ext4: label %q longer than 16 bytes", opt.Label)
	}
	if opt.InodeRatio == 0 {
		opt.InodeRatio = 16384
	}
	if opt.InodeRatio < 16384 {
		return fmt.Errorf("ext4: inode ratio %d below 16384", opt.InodeRatio)
	}
	if opt.UUID == ([16]byte{}) {
		if _, err := rand.Read(opt.UUID[:]); err != nil {
			return err
		}
		opt.UUID[6] = opt.UUID[6]&0x0f | 0x40
		opt.UUID[8] = opt.UUID[8]&0x3f | 0x80
	}
	if opt.Time.IsZero() {
		opt.Time = time.Now()
	}
	return nil
}

// newSuperblock returns the primary superblock of a new filesystem; the free counts and
// the journal's i_block copy are filled in later.
func newSuperblock(l *layout, opt FormatOptions) ([]byte, error) {
	ts := uint32(opt.Time.Unix())
	sb := make([]byte, sbSize)
	put32(sb, sbInodesCount, l.groups*l.ipg)
	put32(sb, sbBlocksCountLo, uint32(l.blocks))
	put32(sb, sbLogBlockSize, 2)
	put32(sb, sbLogClusterSize, 2)
	put32(sb, sbBlocksPerGroup, blocksPerGp)
	put32(sb, sbClustersPerGroup, blocksPerGp)
	put32(sb, sbInodesPerGroup, l.ipg)
	put32(sb, sbWtime, ts)
	put16(sb, sbMaxMntCount, 0xFFFF)
	put16(sb, sbMagic, magic)
	put16(sb, sbState, stateValid)
	put16(sb, sbErrors, 1)
	put32(sb, sbLastCheck, ts)
	put32(sb, sbRevLevel, 1)
	put32(sb, sbFirstIno, firstIno)
	put16(sb, sbInodeSize, inodeSz)
	put32(sb, sbFeatureCompat, compatHasJournal|compatExtAttr)
	put32(sb, sbFeatureIncompat, incompatFiletype|incompatExtents|incompatFlexBG)
	put32(sb, sbFeatureRoCompat, roSparseSuper|roLargeFile|roHugeFile|roGdtCsum|roDirNlink|roExtraIsize)
	copy(sb[sbUUID:], opt.UUID[:])
	copy(sb[sbVolumeName:], opt.Label)
	put32(sb, sbJournalInum, journalIno)
	if _, err := rand.Read(sb[sbHashSeed : sbHashSeed+16]); err != nil {
		return nil, err
	}
	sb[sbDefHashVersion] = 1            // half_md4
	sb[sbJnlBackupType] = 1             // s_jnl_blocks holds the journal inode's i_block
	put32(sb, sbDefaultMountOpts, 0x0C) // user_xattr, acl
	put32(sb, sbMkfsTime, ts)
	put16(sb, sbMinExtraIsize, 32)
	put16(sb, sbWantExtraIsize, 32)
	put32(sb, sbFlags, 0x1) // signed directory hash
	sb[sbLogGroupsPerFlex] = flexLog
	return sb, nil
}

// formatGroups sets up every group's descriptor and block bitmap with its static metadata
// (superblock copy and descriptors, flex_bg bitmaps and inode tables), and empty inode
// bitmaps.
func (f *FS) formatGroups(l *layout) {
	for g := uint32(0); g < l.groups; g++ {
		d := f.gd(g)
		put32(d, bgBlockBitmap, uint32(l.bb[g]))
		put32(d, bgInodeBitmap, uint32(l.ib[g]))
		put32(d, bgInodeTable, uint32(l.it[g]))
		gs := uint64(g) * blocksPerGp
		gn := f.groupBlocks(g)
		bm := make([]byte, blockSize)
		used := uint32(0)
		if hasSuper(g, true) {
			for i := uint64(0); i < 1+l.gdtBlocks; i++ {
				setBit(bm, int(i))
				used++
			}
		}
		if l.flexEnd[g] != 0 {
			for b := l.bb[g]; b < l.flexEnd[g]; b++ {
				if !testBit(bm, int(b-gs)) {
					setBit(bm, int(b-gs))
					used++
				}
			}
		}
		for i := int(gn); i < 8*blockSize; i++ {
			setBit(bm, i)
		}
		f.bbCache[g] = bm
		put16(d, bgFreeBlocks, uint16(gn-used))
		ibm := make([]byte, blockSize)
		for i := int(l.ipg); i < 8*blockSize; i++ {
			setBit(ibm, i)
		}
		f.ibCache[g] = ibm
		put16(d, bgFreeInodes, uint16(l.ipg))
		put16(d, bgItableUnused, uint16(l.ipg))
		put16(d, bgFlags, 0)
		f.dirtyBB[g], f.dirtyIB[g], f.dirtyGD[g] = true, true, true
	}
}

// formatReservedInodes marks the reserved inodes 1..10 of group 0 used and zeroes the first
// inode table block (reserved inodes and never-used slots alike).
func (f *FS) formatReservedInodes(l *layout) error {
	bm0 := f.ibCache[0]
	for i := 0; i < firstIno-1; i++ {
		setBit(bm0, i)
	}
	put16(f.gd(0), bgFreeInodes, uint16(l.ipg-(firstIno-1)))
	put16(f.gd(0), bgItableUnused, uint16(l.ipg-(firstIno-1)))
	_, err := f.dev.WriteAt(make([]byte, blockSize), int64(l.it[0])*blockSize)
	return err
}

// formatJournal allocates the journal's contiguous blocks after group 0's metadata and
// writes its inode and its superblock (only that: the superblock says the journal is
// empty). It returns the block after the journal.
func (f *FS) formatJournal(l *layout, jblocks uint32, opt FormatOptions) (uint64, error) {
	ts := uint32(opt.Time.Unix())
	sb := f.sb
	jexts, err := f.allocBlocks(uint64(jblocks), l.flexEnd[0])
	if err != nil {
		return 0, err
	}
	var lb uint32
	for i := range jexts {
		jexts[i].lblk = lb
		lb += jexts[i].len
	}
	jn := &inode{ino: journalIno, b: make([]byte, inodeSz)}
	put16(jn.b, iMode, modeReg|0o600)
	put32(jn.b, iAtime, ts)
	put32(jn.b, iCtime, ts)
	put32(jn.b, iMtime, ts)
	put16(jn.b, iLinks, 1)
	put32(jn.b, iFlags, flagExtents)
	put16(jn.b, iExtraIsize, 32)
	put32(jn.b, iCrtime, ts)
	jn.setSize(int64(jblocks) * blockSize)
	if err := f.setExtents(jn, jexts, uint64(jblocks)); err != nil {
		return 0, err
	}
	copy(sb[sbJnlBlocks:sbJnlBlocks+iBlockSize], jn.b[iBlock:iBlock+iBlockSize])
	put32(sb, sbJnlBlocks+15*4, 0)
	put32(sb, sbJnlBlocks+16*4, jblocks*blockSize)
	js := make([]byte, blockSize)
	putBE32(js, jhMagic, jMagic)
	putBE32(js, jhBlockType, jSuperV2)
	putBE32(js, jsBlocksize, blockSize)
	putBE32(js, jsMaxlen, jblocks)
	putBE32(js, jsFirst, 1)
	putBE32(js, jsSequence, 1)
	copy(js[jsUUID:], opt.UUID[:])
	putBE32(js, jsNrUsers, 1)
	if _, err := f.dev.WriteAt(js, int64(jexts[0].pblk)*blockSize); err != nil {
		return 0, err
	}
	if err := f.writeInode(jn); err != nil {
		return 0, err
	}
	last := jexts[len(jexts)-1]
	return last.pblk + uint64(last.len), nil
}

// formatRootDirs writes the root directory (inode 2) and lost+found (11), from block goal.
func (f *FS) formatRootDirs(l *layout, goal uint64, now time.Time) error {
	bm0 := f.ibCache[0]
	root := f.newInode(rootIno, modeDir|DirMode, now)
	lf := f.newInode(firstIno, modeDir|0o700, now)
	setBit(bm0, firstIno-1)
	put16(f.gd(0), bgFreeInodes, uint16(l.ipg-firstIno))
	put16(f.gd(0), bgItableUnused, uint16(l.ipg-firstIno))
	put16(f.gd(0), bgUsedDirs, 2)
	dblk, err := f.allocBlocks(5, goal)
	if err != nil {
		return err
	}
	var dbs []uint64
	for _, e := range dblk {
		for i := uint64(0); i < uint64(e.len); i++ {
			dbs = append(dbs, e.pblk+i)
		}
	}
	rb := make([]byte, blockSize)
	dirEnt := func(b []byte, off int, ino uint32, rl int, name string) {
		put32(b, off, ino)
		put16(b, off+4, uint16(rl))
		b[off+6] = byte(len(name))
		b[off+7] = ftDir
		copy(b[off+8:], name)
	}
	dirEnt(rb, 0, rootIno, 12, ".")
	dirEnt(rb, 12, rootIno, 12, "..")
	dirEnt(rb, 24, firstIno, blockSize-24, "lost+found")
	if _, err := f.dev.WriteAt(rb, int64(dbs[0])*blockSize); err != nil {
		return err
	}
	put16(root.b, iLinks, 3)
	root.setSize(blockSize)
	if err := f.setExtents(root, []extent{{lblk: 0, len: 1, pblk: dbs[0]}}, 1); err != nil {
		return err
	}
	// lost+found gets 4 blocks (16 KiB) so e2fsck can relink without allocating.
	lfb := make([]byte, 4*blockSize)
	dirEnt(lfb, 0, firstIno, 12, ".")
	dirEnt(lfb, 12, rootIno, blockSize-12, "..")
	for i := 1; i < 4; i++ {
		put16(lfb, i*blockSize+4, blockSize)
	}
	for i := 0; i < 4; i++ {
		if _, err := f.dev.WriteAt(lfb[i*blockSize:(i+1)*blockSize], int64(dbs[1+i])*blockSize); err != nil {
			return err
		}
	}
	put16(lf.b, iLinks, 2)
	lf.setSize(4 * blockSize)
	var lfExts []extent
	for i := 0; i < 4; i++ {
		pb := dbs[1+i]
		if n := len(lfExts); n > 0 && lfExts[n-1].pblk+uint64(lfExts[n-1].len) == pb {
			lfExts[n-1].len++
		} else {
			lfExts = append(lfExts, extent{lblk: uint32(i), len: 1, pblk: pb})
		}
	}
	if err := f.setExtents(lf, lfExts, 4); err != nil {
		return err
	}
	for _, n := range []*inode{root, lf} {
		if err := f.writeInode(n); err != nil {
			return err
		}
	}
	return nil
}

// formatFinish writes the bitmaps, the primary descriptors, then the backup superblocks and
// descriptors, and the primary superblock last: until then the device is no ext4.
func (f *FS) formatFinish(l *layout) error {
	sb, dev := f.sb, f.dev
	if err := f.writeMeta(); err != nil {
		return err
	}
	var fb uint64
	var fi uint32
	for g := uint32(0); g < l.groups; g++ {
		fb += uint64(f.gdFreeBlocks(g))
		fi += f.gdFreeInodes(g)
		f.gdChecksum(g)
	}
	put32(sb, sbFreeBlocksLo, uint32(fb))
	put32(sb, sbFreeInodes, fi)
	gdtBuf := make([]byte, l.gdtBlocks*blockSize)
	copy(gdtBuf, f.gdt)
	for g := uint32(1); g < l.groups; g++ {
		if !hasSuper(g, true) {
			continue
		}
		bsb := append([]byte(nil), sb...)
		put16(bsb, sbBlockGroupNr, uint16(g))
		blk := make([]byte, blockSize)
		copy(blk, bsb) // backups sit at the start of their group's first block
		base := int64(g) * blocksPerGp * blockSize
		if _, err := dev.WriteAt(blk, base); err != nil {
			return err
		}
		if _, err := dev.WriteAt(gdtBuf, base+blockSize); err != nil {
			return err
		}
	}
	if _, err := dev.WriteAt(gdtBuf, blockSize); err != nil {
		return err
	}
	if err := durable.Flush(dev); err != nil {
		return err
	}
	// Block 0: 1024 bytes of boot area (zeroed) and the primary superblock.
	b0 := make([]byte, blockSize)
	copy(b0[sbOffset:], sb)
	if _, err := dev.WriteAt(b0, 0); err != nil {
		return err
	}
	return durable.Flush(dev)
}
