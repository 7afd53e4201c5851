package ext4

import (
	"fmt"
	"sort"
)

// After a power cut, the writes made since the last completed flush may have reached
// the device in any subset: a bitmap without its descriptor, an inode without the
// bitmap that marks its blocks, a freed bitmap without the inode that stopped using
// the blocks. The bitmaps alone then cannot be trusted, in either direction, and
// their free counts may disagree with the descriptors. repairAfterCrash does what
// e2fsck -p does without asking, for a volume not cleanly closed or whose counts
// disagree: it finds every inode in use (links above zero, in the inode tables up to
// each group's high-water mark, and every inode a folder reachable from the root
// names) and every block they claim (data and extent tree blocks), marks in the
// bitmaps whatever of those is marked free, and sets every group's free and folder
// counts from the bitmaps. It only ever marks MORE used, so it cannot hand out a
// block or inode in use; what it leaves marked used and unused is a leak for e2fsck.
// States it cannot repair that way are refused (ErrNeedsFsck): a block claimed by two
// inodes or by an inode and group metadata, a folder naming an inode not in use, an
// inode in use whose extents are corrupt.

// claim is a run of blocks an inode in use claims.
type claim struct {
	start, end uint64 // [start, end)
	ino        uint32
}

// liveScan is what the inodes in use claim.
type liveScan struct {
	claims []claim
	xattrs map[uint64]bool   // extended attribute blocks (shared, not in claims)
	inodes map[uint32][]byte // group -> bitmap of its inodes in use
	dirs   map[uint32]uint32 // group -> folders in use
	high   map[uint32]uint32 // group -> one past its highest slot in use
}

func (l *liveScan) has(f *FS, ino uint32) bool {
	g, i := (ino-1)/f.ipg, int((ino-1)%f.ipg)
	b, ok := l.inodes[g]
	return ok && testBit(b, i)
}

// add records inode n (in use) and the blocks it claims.
func (l *liveScan) add(f *FS, n *inode) error {
	g, i := (n.ino-1)/f.ipg, int((n.ino-1)%f.ipg)
	if l.inodes[g] == nil {
		l.inodes[g] = make([]byte, f.bs)
	}
	setBit(l.inodes[g], i)
	l.high[g] = max(l.high[g], uint32(i)+1)
	if n.isDir() {
		l.dirs[g]++
	}
	if n.ino < le32(f.sb, sbFirstIno) && n.ino != rootIno {
		return nil // the journal is checked with the group metadata; others are not files
	}
	if n.mode()&modeType == modeLink && n.flags()&flagExtents == 0 {
		return nil // a short symlink: its target is in the inode
	}
	exts, tree, err := f.extents(n)
	if err != nil {
		return fmt.Errorf("inode %d is in use but its blocks cannot be read: %v", n.ino, err)
	}
	for _, e := range exts {
		l.claims = append(l.claims, claim{e.pblk, e.pblk + uint64(e.len), n.ino})
	}
	for _, b := range tree {
		l.claims = append(l.claims, claim{b, b + 1, n.ino})
	}
	if acl := uint64(le32(n.b, iFileACLLo)); acl != 0 {
		if acl < f.firstData || acl >= f.blocks {
			return fmt.Errorf("inode %d's extended attribute block %d is outside the filesystem", n.ino, acl)
		}
		l.xattrs[acl] = true // the kernel shares one among inodes with the same attributes
	}
	return nil
}

func inUse(b []byte) bool { return le16(b, iLinks) != 0 && le16(b, iMode) != 0 }

// scanLive finds the inodes in use and what they claim.
func (f *FS) scanLive() (*liveScan, error) {
	l := &liveScan{xattrs: map[uint64]bool{}, inodes: map[uint32][]byte{}, dirs: map[uint32]uint32{}, high: map[uint32]uint32{}}
	csum := le32(f.sb, sbFeatureRoCompat)&roGdtCsum != 0
	var buf []byte
	for g := uint32(0); g < f.groups; g++ {
		if f.gdFlags(g)&bgInodeUninit != 0 {
			continue
		}
		hw := f.ipg
		if csum {
			hw -= min(f.gdItableUnused(g), f.ipg)
		}
		nb := (int64(hw)*int64(f.inodeSize) + f.bs - 1) / f.bs
		if nb == 0 {
			continue
		}
		if int64(cap(buf)) < nb*f.bs {
			buf = make([]byte, nb*f.bs)
		}
		buf = buf[:nb*f.bs]
		if err := f.readBlocks(buf, f.gdInodeTable(g)); err != nil {
			return nil, err
		}
		for i := uint32(0); i < hw; i++ {
			b := buf[int(i)*f.inodeSize:][:f.inodeSize]
			if !inUse(b) {
				continue
			}
			n := &inode{ino: g*f.ipg + i + 1, b: append([]byte(nil), b...)}
			if err := l.add(f, n); err != nil {
				return nil, err
			}
		}
	}
	// Every inode a folder names is in use, also one above its group's high-water mark
	// (a folder's entry written before its descriptor).
	seen := map[uint32]bool{}
	queue := []uint32{rootIno}
	for len(queue) > 0 {
		ino := queue[0]
		queue = queue[1:]
		if seen[ino] {
			continue
		}
		seen[ino] = true
		dir, err := f.readInode(ino)
		if err != nil {
			return nil, err
		}
		ents, err := f.readDirInode(dir)
		if err != nil {
			return nil, fmt.Errorf("folder inode %d: %v", ino, err)
		}
		for _, e := range ents {
			if e.Name == "." || e.Name == ".." {
				continue
			}
			if !l.has(f, e.Ino) {
				n, err := f.readInode(e.Ino)
				if err != nil {
					return nil, err
				}
				if !inUse(n.b) {
					return nil, fmt.Errorf("folder inode %d names %q as inode %d, which is not in use", ino, e.Name, e.Ino)
				}
				if err := l.add(f, n); err != nil {
					return nil, err
				}
			}
			if e.Type == ftDir || e.Type == 0 {
				if n, err := f.readInode(e.Ino); err == nil && n.isDir() {
					queue = append(queue, e.Ino)
				}
			}
		}
	}
	return l, nil
}

// repairAfterCrash runs the repair described above; spans are the group metadata and
// the journal (checked marked used already). The error is a refusal message.
func (f *FS) repairAfterCrash(spans []span) error {
	l, err := f.scanLive()
	if err != nil {
		return err
	}
	jino := le32(f.sb, sbJournalInum)
	if jino == 0 {
		jino = journalIno
	}
	sort.Slice(l.claims, func(i, j int) bool { return l.claims[i].start < l.claims[j].start })
	for i, c := range l.claims {
		if l.xattrs[c.start] {
			return fmt.Errorf("inode %d claims block %d, an extended attribute block", c.ino, c.start)
		}
		if c.end > f.blocks || c.start < f.firstData {
			return fmt.Errorf("inode %d claims blocks %d..%d, outside the filesystem", c.ino, c.start, c.end-1)
		}
		if i > 0 && c.start < l.claims[i-1].end {
			p := l.claims[i-1]
			return fmt.Errorf("inodes %d and %d both claim block %d", p.ino, c.ino, c.start)
		}
	}
	for _, s := range spans {
		k := sort.Search(len(l.claims), func(i int) bool { return l.claims[i].end > s.start })
		if k < len(l.claims) && l.claims[k].start < s.end && !(s.journal && l.claims[k].ino == jino) {
			return fmt.Errorf("inode %d claims block %d, which holds %s", l.claims[k].ino, max(l.claims[k].start, s.start), s.what)
		}
	}
	for b := range l.xattrs {
		l.claims = append(l.claims, claim{b, b + 1, 0})
	}
	sort.Slice(l.claims, func(i, j int) bool { return l.claims[i].start < l.claims[j].start })
	f.writerCaches()
	marked, markedInodes, freedInodes := uint64(0), 0, 0
	var counts []string
	k := 0
	for g := uint32(0); g < f.groups; g++ {
		start, n := f.groupStart(g), uint64(f.groupBlocks(g))
		changed := false
		var bm []byte
		for ; k < len(l.claims) && l.claims[k].start < start+n; k++ {
			c := l.claims[k]
			if bm == nil {
				if bm, err = f.blockBitmap(g); err != nil {
					return err
				}
			}
			for b := max(c.start, start); b < min(c.end, start+n); b++ {
				if !testBit(bm, int(b-start)) {
					setBit(bm, int(b-start))
					marked++
					changed = true
				}
			}
			if c.end > start+n { // runs on into the next group
				l.claims[k].start = start + n
				break
			}
		}
		if changed {
			put16(f.gd(g), bgFlags, f.gdFlags(g)&^bgBlockUninit)
			f.dirtyBB[g], f.dirtyGD[g] = true, true
		}
		if f.gdFlags(g)&bgBlockUninit == 0 {
			if bm == nil {
				if bm, err = f.blockBitmap(g); err != nil {
					return err
				}
			}
			if free := zeroBits(bm, int(n)); free != f.gdFreeBlocks(g) {
				counts = append(counts, fmt.Sprintf("group %d's free block count corrected from %d to %d", g, f.gdFreeBlocks(g), free))
				f.setGD16pair(g, bgFreeBlocks, bgFreeBlocksHi, free)
				f.dirtyGD[g] = true
			}
		}
		if f.gdFlags(g)&bgInodeUninit != 0 {
			continue
		}
		ib, err := f.inodeBitmap(g)
		if err != nil {
			return err
		}
		if live := l.inodes[g]; live != nil {
			for i := 0; i < int(f.ipg); i++ {
				if testBit(live, i) && !testBit(ib, i) {
					setBit(ib, i)
					markedInodes++
					f.dirtyIB[g], f.dirtyGD[g] = true, true
				}
			}
		}
		if le32(f.sb, sbFeatureRoCompat)&roGdtCsum != 0 {
			// The inode table's high-water mark: raised over every inode a folder names;
			// a slot above it marked used that no folder names is an allocation whose
			// descriptor was lost (its slot may never have been zeroed): freed.
			hw := f.ipg - min(f.gdItableUnused(g), f.ipg)
			if l.high[g] > hw {
				hw = l.high[g]
				f.setGD16pair(g, bgItableUnused, bgItableUnusedHi, f.ipg-hw)
				f.dirtyGD[g] = true
			}
			for i := int(hw); i < int(f.ipg); i++ {
				if testBit(ib, i) {
					clearBit(ib, i)
					freedInodes++
					f.dirtyIB[g], f.dirtyGD[g] = true, true
				}
			}
		}
		if free := zeroBits(ib, int(f.ipg)); free != f.gdFreeInodes(g) {
			counts = append(counts, fmt.Sprintf("group %d's free inode count corrected from %d to %d", g, f.gdFreeInodes(g), free))
			f.setGD16pair(g, bgFreeInodes, bgFreeInodesHi, free)
			f.dirtyGD[g] = true
		}
		if d := l.dirs[g]; d != f.gdUsedDirs(g) {
			counts = append(counts, fmt.Sprintf("group %d's folder count corrected from %d to %d", g, f.gdUsedDirs(g), d))
			f.setGD16pair(g, bgUsedDirs, bgUsedDirsHi, d)
			f.dirtyGD[g] = true
		}
	}
	if marked > 0 || markedInodes > 0 {
		f.warnings = append(f.warnings, fmt.Sprintf("%d blocks and %d inodes in use were marked free (left by an interrupted write): marked used again", marked, markedInodes))
	}
	if freedInodes > 0 {
		f.warnings = append(f.warnings, fmt.Sprintf("%d inodes marked used above their group's initialised inode table were freed (left by an interrupted write)", freedInodes))
	}
	for _, c := range counts {
		f.warnings = append(f.warnings, c+" (left by an interrupted write)")
	}
	if len(f.dirtyGD) == 0 {
		return nil
	}
	if err := f.begin(); err != nil {
		return err
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	f.superCounts()
	if err := f.writeSuper(); err != nil {
		return err
	}
	return f.flush()
}
