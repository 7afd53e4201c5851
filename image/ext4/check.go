package ext4

import (
	"fmt"
	"math/bits"
	"sort"
)

// A writer that trusts the bitmaps of a damaged filesystem allocates its metadata to file
// data and destroys it (a zeroed block bitmap of group 0 lets the first write land on the
// superblock and descriptors). Before opening a volume for writing, checkAllocation
// therefore checks what the kernel and e2fsck check:
//   - every group's own metadata (superblock copy, descriptors and reserved descriptor
//     blocks, bitmaps, inode table) and the journal lie inside the filesystem and overlap
//     nothing else (an inode table pointing at the descriptor block is refused);
//   - every one of those blocks is marked used in its group's block bitmap;
//   - the free counts of the bitmaps agree with the group descriptors, for blocks and
//     inodes, and the reserved inodes are marked used.
// Anything else is refused with ErrNeedsFsck, naming the group, before anything is
// written. Counts that disagree with the bitmaps (in either direction), or a volume not
// closed cleanly, are what a kill -9 or a power cut leaves (see writeMeta): the open then
// repairs the volume the way e2fsck -p would (repairAfterCrash, in repair.go), marking
// used whatever the inodes in use claim and setting the counts from the bitmaps.

// span is a run of metadata blocks and what they are.
type span struct {
	start, end uint64 // [start, end)
	what       string
	journal    bool
}

// metadataSpans lists the blocks of every group's metadata and of the journal.
func (f *FS) metadataSpans() ([]span, error) {
	var out []span
	sparse := le32(f.sb, sbFeatureRoCompat)&roSparseSuper != 0
	gdtBlocks := (uint64(f.groups)*uint64(f.descSize) + uint64(f.bs) - 1) / uint64(f.bs)
	resv := uint64(le16(f.sb, sbReservedGdtBlocks))
	itb := (uint64(f.ipg)*uint64(f.inodeSize) + uint64(f.bs) - 1) / uint64(f.bs)
	for g := uint32(0); g < f.groups; g++ {
		if hasSuper(g, sparse) {
			s := f.groupStart(g)
			out = append(out, span{start: s, end: s + 1 + gdtBlocks + resv, what: fmt.Sprintf("group %d's superblock and descriptors", g)})
		}
		bb, ib, it := f.gdBlockBitmap(g), f.gdInodeBitmap(g), f.gdInodeTable(g)
		out = append(out,
			span{start: bb, end: bb + 1, what: fmt.Sprintf("group %d's block bitmap", g)},
			span{start: ib, end: ib + 1, what: fmt.Sprintf("group %d's inode bitmap", g)},
			span{start: it, end: it + itb, what: fmt.Sprintf("group %d's inode table", g)})
	}
	if le32(f.sb, sbFeatureCompat)&compatHasJournal != 0 {
		ino := le32(f.sb, sbJournalInum)
		if ino == 0 {
			ino = journalIno
		}
		n, err := f.readInode(ino)
		if err != nil {
			return nil, fmt.Errorf("the journal inode: %w", err)
		}
		exts, tree, err := f.extents(n)
		if err != nil {
			return nil, fmt.Errorf("the journal: %w", err)
		}
		for _, e := range exts {
			out = append(out, span{e.pblk, e.pblk + uint64(e.len), "the journal", true})
		}
		for _, b := range tree {
			out = append(out, span{b, b + 1, "the journal's extent tree", true})
		}
	}
	for _, s := range out {
		if s.start < f.firstData || s.end > f.blocks || s.end <= s.start {
			return nil, fmt.Errorf("%s (blocks %d..%d) lies outside the filesystem's blocks %d..%d", s.what, s.start, s.end-1, f.firstData, f.blocks-1)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	for i := 1; i < len(out); i++ {
		if out[i].start < out[i-1].end {
			return nil, fmt.Errorf("%s (blocks %d..%d) overlaps %s (blocks %d..%d)",
				out[i].what, out[i].start, out[i].end-1, out[i-1].what, out[i-1].start, out[i-1].end-1)
		}
	}
	return out, nil
}

// checkAllocation runs the checks above; the error wraps ErrNeedsFsck.
func (f *FS) checkAllocation() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s; travelkit will not write to it, because it would overwrite data. Repair it on Linux with "+
			"`cryptsetup open DEVICE kit && e2fsck -fy /dev/mapper/kit && cryptsetup close kit`, then retry",
			ErrNeedsFsck, fmt.Sprintf(format, args...))
	}
	spans, err := f.metadataSpans()
	if err != nil {
		return fail("%v", err)
	}
	bitmaps := newBitmapReader(f)
	mismatch := false
	next := 0 // first span not wholly before the current group
	for g := uint32(0); g < f.groups; g++ {
		start, n := f.groupStart(g), uint64(f.groupBlocks(g))
		for next < len(spans) && spans[next].end <= start {
			next++
		}
		var bm []byte
		if f.gdFlags(g)&bgBlockUninit != 0 {
			// What the kernel assumes of a group without a bitmap yet: the group metadata
			// that lies in it is used, nothing else (as uninitBlockBitmap, from the spans).
			bm = make([]byte, f.bs)
			for i := next; i < len(spans) && spans[i].start < start+n; i++ {
				if !spans[i].journal {
					for b := max(spans[i].start, start); b < min(spans[i].end, start+n); b++ {
						setBit(bm, int(b-start))
					}
				}
			}
		} else if bm, err = bitmaps.block(g); err != nil {
			return err
		}
		if zeroBits(bm, int(n)) != f.gdFreeBlocks(g) {
			mismatch = true
		}
		for i := next; i < len(spans) && spans[i].start < start+n; i++ {
			s := spans[i]
			for b := max(s.start, start); b < min(s.end, start+n); b++ {
				if !testBit(bm, int(b-start)) {
					return fail("group %d's block bitmap marks block %d free, which holds %s", g, b, s.what)
				}
			}
		}
		if f.gdFlags(g)&bgInodeUninit != 0 {
			if f.gdFreeInodes(g) != f.ipg {
				return fail("group %d has no inode bitmap yet (uninitialised) but its descriptor counts %d free inodes of %d", g, f.gdFreeInodes(g), f.ipg)
			}
			continue
		}
		ib, err := bitmaps.inode(g)
		if err != nil {
			return err
		}
		if zeroBits(ib, int(f.ipg)) != f.gdFreeInodes(g) {
			mismatch = true
		}
		if g == 0 {
			for i := 0; i < int(le32(f.sb, sbFirstIno))-1 && i < int(f.ipg); i++ {
				if !testBit(ib, i) {
					return fail("group 0's inode bitmap marks reserved inode %d free", i+1)
				}
			}
		}
	}
	if mismatch || le16(f.sb, sbState)&stateValid == 0 {
		// not closed cleanly (a power cut, a kill), or counts that disagree with bitmaps
		if err := f.repairAfterCrash(spans); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// zeroBits counts the clear bits among the first n.
func zeroBits(b []byte, n int) uint32 {
	set := 0
	for i := 0; i < n/8; i++ {
		set += bits.OnesCount8(b[i])
	}
	for i := n / 8 * 8; i < n; i++ {
		if testBit(b, i) {
			set++
		}
	}
	return uint32(n - set)
}

// bitmapReader reads the bitmaps of consecutive groups in runs (flex_bg keeps them next
// to each other), a few hundred blocks per read, without keeping them; bitmaps of
// uninitialised groups are not read.
type bitmapReader struct {
	f          *FS
	run        []byte
	runStart   uint64
	runBlocks  uint64
	inodeRun   []byte
	inodeStart uint64
	inodeN     uint64
}

const bitmapRun = 256

func newBitmapReader(f *FS) *bitmapReader { return &bitmapReader{f: f} }

func (r *bitmapReader) read(blk uint64, run *[]byte, start, n *uint64, at func(uint32) uint64, g uint32, uninit uint16) ([]byte, error) {
	f := r.f
	if blk >= *start && blk < *start+*n {
		return (*run)[(blk-*start)*uint64(f.bs):][:f.bs], nil
	}
	// Extend over the next groups while their bitmaps follow on.
	cnt := uint64(1)
	for h := g + 1; h < f.groups && cnt < bitmapRun && at(h) == blk+cnt && blk+cnt < f.blocks && f.gdFlags(h)&uninit == 0; h++ {
		cnt++
	}
	if cap(*run) < int(cnt)*int(f.bs) {
		*run = make([]byte, bitmapRun*int(f.bs))
	}
	*run = (*run)[:int(cnt)*int(f.bs)]
	if err := f.readBlocks(*run, blk); err != nil {
		return nil, err
	}
	*start, *n = blk, cnt
	return (*run)[:f.bs], nil
}

func (r *bitmapReader) block(g uint32) ([]byte, error) {
	return r.read(r.f.gdBlockBitmap(g), &r.run, &r.runStart, &r.runBlocks, r.f.gdBlockBitmap, g, bgBlockUninit)
}

func (r *bitmapReader) inode(g uint32) ([]byte, error) {
	return r.read(r.f.gdInodeBitmap(g), &r.inodeRun, &r.inodeStart, &r.inodeN, r.f.gdInodeBitmap, g, bgInodeUninit)
}
