package ext4

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"travelkit/internal/durable"
)

// jbd2 on-disk facts (big-endian).
const (
	jMagic = 0xC03B3998

	jDescriptor = 1
	jCommit     = 2
	jSuperV1    = 3
	jSuperV2    = 4
	jRevoke     = 5

	jIncRevoke      = 0x1
	jInc64bit       = 0x2
	jIncAsyncCommit = 0x4
	jIncCsumV2      = 0x8
	jIncCsumV3      = 0x10
	jIncFastCommit  = 0x20

	jFlagEscape   = 0x1
	jFlagSameUUID = 0x2
	jFlagDeleted  = 0x4
	jFlagLastTag  = 0x8

	// journal_header_t, at the start of every journal metadata block
	jhMagic     = 0x0
	jhBlockType = 0x4
	jhSequence  = 0x8

	// journal superblock fields
	jsBlocksize = 0xC
	jsMaxlen    = 0x10
	jsFirst     = 0x14
	jsSequence  = 0x18
	jsStart     = 0x1C
	jsErrno     = 0x20
	jsCompat    = 0x24
	jsIncompat  = 0x28
	jsRoCompat  = 0x2C
	jsUUID      = 0x30
	jsNrUsers   = 0x40
	jsChecksum  = 0xFC
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the kernel's crc32c(seed, data): no pre- or post-inversion.
func crc32c(seed uint32, p []byte) uint32 {
	return ^crc32.Update(^seed, castagnoli, p)
}

type jtag struct {
	fsBlock uint64
	escape  bool
	csum    uint32
	jpos    uint32 // journal block index of the data
}

type jtrans struct {
	seq     uint32
	tags    []jtag
	revokes []uint64
}

type journal struct {
	f        *FS
	bs       int64
	blocks   []uint64 // journal logical block -> fs block
	sb       []byte
	maxlen   uint32
	first    uint32
	incompat uint32
	seed     uint32
}

func (j *journal) read(pos uint32) ([]byte, error) {
	if pos >= uint32(len(j.blocks)) {
		return nil, fmt.Errorf("ext4: journal block %d beyond the journal", pos)
	}
	b := make([]byte, j.bs)
	if err := j.f.readRaw(b, int64(j.blocks[pos])*j.bs); err != nil {
		return nil, fmt.Errorf("ext4: read journal block %d: %w", pos, err)
	}
	return b, nil
}

func (f *FS) openJournal() (*journal, error) {
	if le32(f.sb, sbFeatureCompat)&compatHasJournal == 0 {
		return nil, fmt.Errorf("ext4: needs_recovery set but the filesystem has no journal")
	}
	if le32(f.sb, sbFeatureIncompat)&incompatJournalDev != 0 || le32(f.sb, sbJournalInum) == 0 {
		return nil, fmt.Errorf("%w: external journal", ErrUnsupported)
	}
	n, err := f.readInode(le32(f.sb, sbJournalInum))
	if err != nil {
		return nil, err
	}
	exts, _, err := f.extents(n)
	if err != nil {
		return nil, fmt.Errorf("ext4: journal inode: %w", err)
	}
	nblk := n.size() / f.bs
	if nblk < 32 || nblk > 1<<24 {
		return nil, fmt.Errorf("ext4: journal of %d blocks", nblk)
	}
	j := &journal{f: f, bs: f.bs, blocks: make([]uint64, nblk)}
	for _, e := range exts {
		for i := uint32(0); i < e.len; i++ {
			l := uint64(e.lblk) + uint64(i)
			if l < uint64(nblk) {
				j.blocks[l] = e.pblk + uint64(i)
			}
		}
	}
	for i, b := range j.blocks {
		if b == 0 {
			return nil, fmt.Errorf("ext4: journal block %d is not mapped", i)
		}
	}
	if j.sb, err = j.read(0); err != nil {
		return nil, err
	}
	sb := j.sb
	if be32(sb, jhMagic) != jMagic || (be32(sb, jhBlockType) != jSuperV1 && be32(sb, jhBlockType) != jSuperV2) {
		return nil, fmt.Errorf("ext4: bad journal superblock")
	}
	if int64(be32(sb, jsBlocksize)) != f.bs {
		return nil, fmt.Errorf("ext4: journal block size %d != %d", be32(sb, jsBlocksize), f.bs)
	}
	j.maxlen = be32(sb, jsMaxlen)
	j.first = be32(sb, jsFirst)
	if j.maxlen > uint32(nblk) || j.first == 0 || j.first >= j.maxlen {
		return nil, fmt.Errorf("ext4: journal geometry (first %d, maxlen %d, %d blocks) is bad", j.first, j.maxlen, nblk)
	}
	if be32(sb, jhBlockType) == jSuperV2 {
		j.incompat = be32(sb, jsIncompat)
	}
	known := uint32(jIncRevoke | jInc64bit | jIncAsyncCommit | jIncCsumV2 | jIncCsumV3)
	if j.incompat&^known != 0 {
		if j.incompat&jIncFastCommit != 0 {
			return nil, fmt.Errorf("%w: the journal uses fast commits; repair with `e2fsck -fy` on Linux", ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: journal features 0x%x", ErrUnsupported, j.incompat&^known)
	}
	if j.csum() {
		j.seed = crc32c(0xFFFFFFFF, sb[jsUUID:jsUUID+16])
		want := be32(sb, jsChecksum)
		c := append([]byte(nil), sb[:1024]...)
		putBE32(c, jsChecksum, 0)
		if crc32c(0xFFFFFFFF, c) != want {
			return nil, fmt.Errorf("ext4: journal superblock checksum mismatch")
		}
	}
	return j, nil
}

func (j *journal) csum() bool { return j.incompat&(jIncCsumV2|jIncCsumV3) != 0 }

func (j *journal) tagBytes() int {
	if j.incompat&jIncCsumV3 != 0 {
		return 16
	}
	sz := 12
	if j.incompat&jIncCsumV2 != 0 {
		sz += 2
	}
	if j.incompat&jInc64bit == 0 {
		sz -= 4
	}
	return sz
}

func (j *journal) next(p uint32) uint32 {
	p++
	if p >= j.maxlen {
		p = j.first
	}
	return p
}

// tailOK verifies the checksum tail of a descriptor or revoke block.
func (j *journal) tailOK(b []byte) bool {
	if !j.csum() {
		return true
	}
	want := binary.BigEndian.Uint32(b[len(b)-4:])
	c := append([]byte(nil), b...)
	putBE32(c, len(c)-4, 0)
	return crc32c(j.seed, c) == want
}

func (j *journal) commitOK(b []byte) bool {
	if !j.csum() {
		return true
	}
	want := be32(b, 16)
	c := append([]byte(nil), b...)
	putBE32(c, 16, 0)
	return crc32c(j.seed, c) == want
}

func (j *journal) dataOK(t jtag, seq uint32, data []byte) bool {
	if !j.csum() {
		return true
	}
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], seq)
	c := crc32c(crc32c(j.seed, s[:]), data)
	if j.incompat&jIncCsumV3 != 0 {
		return c == t.csum
	}
	return uint16(c) == uint16(t.csum)
}

// scan walks the log from s_start and returns the committed transactions.
func (j *journal) scan() ([]jtrans, error) {
	start := be32(j.sb, jsStart)
	seq := be32(j.sb, jsSequence)
	if start == 0 {
		return nil, nil
	}
	if start < j.first || start >= j.maxlen {
		return nil, fmt.Errorf("ext4: journal start %d out of range", start)
	}
	var done []jtrans
	cur := jtrans{seq: seq}
	pos := start
	steps := uint32(0)
	tb := j.tagBytes()
	for steps < j.maxlen {
		b, err := j.read(pos)
		if err != nil {
			return nil, err
		}
		if be32(b, jhMagic) != jMagic || be32(b, jhSequence) != cur.seq {
			break
		}
		typ := be32(b, jhBlockType)
		pos = j.next(pos)
		steps++
		switch typ {
		case jDescriptor:
			if !j.tailOK(b) {
				return done, nil
			}
			end := len(b)
			if j.csum() {
				end -= 4
			}
			off := 12
			for off+tb <= end {
				t := b[off:]
				var flags uint32
				tag := jtag{fsBlock: uint64(be32(t, 0))}
				if j.incompat&jIncCsumV3 != 0 {
					flags = be32(t, 4)
					tag.fsBlock |= uint64(be32(t, 8)) << 32
					tag.csum = be32(t, 12)
				} else {
					tag.csum = uint32(binary.BigEndian.Uint16(t[4:]))
					flags = uint32(binary.BigEndian.Uint16(t[6:]))
					if j.incompat&jInc64bit != 0 {
						tag.fsBlock |= uint64(be32(t, 8)) << 32
					}
				}
				off += tb
				if flags&jFlagSameUUID == 0 {
					off += 16
				}
				tag.escape = flags&jFlagEscape != 0
				tag.jpos = pos
				pos = j.next(pos)
				steps++
				if flags&jFlagDeleted == 0 {
					cur.tags = append(cur.tags, tag)
				}
				if flags&jFlagLastTag != 0 {
					break
				}
			}
		case jRevoke:
			if !j.tailOK(b) {
				return done, nil
			}
			cnt := int(be32(b, 12))
			if cnt > len(b) || cnt < 16 {
				return done, nil
			}
			rs := 4
			if j.incompat&jInc64bit != 0 {
				rs = 8
			}
			for off := 16; off+rs <= cnt; off += rs {
				if rs == 8 {
					cur.revokes = append(cur.revokes, binary.BigEndian.Uint64(b[off:]))
				} else {
					cur.revokes = append(cur.revokes, uint64(be32(b, off)))
				}
			}
		case jCommit:
			if !j.commitOK(b) {
				return done, nil
			}
			done = append(done, cur)
			cur = jtrans{seq: cur.seq + 1}
		default:
			return done, nil
		}
	}
	return done, nil
}

// replayJournal builds the overlay of committed journal blocks; when the
// filesystem is opened writable it writes them home and marks the journal
// empty (as e2fsck and the kernel do on recovery).
func (f *FS) replayJournal() error {
	j, err := f.openJournal()
	if err != nil {
		return fmt.Errorf("%w\nThe volume was not cleanly unmounted and its journal cannot be replayed by travelkit; "+
			"repair it on Linux with `e2fsck -fy` on the opened volume", err)
	}
	trans, err := j.scan()
	if err != nil {
		return err
	}
	revoked := map[uint64]uint32{}
	for _, t := range trans {
		for _, r := range t.revokes {
			if s, ok := revoked[r]; !ok || int32(t.seq-s) > 0 {
				revoked[r] = t.seq
			}
		}
	}
	overlay := map[uint64][]byte{}
	for _, t := range trans {
		for _, tag := range t.tags {
			if s, ok := revoked[tag.fsBlock]; ok && int32(s-t.seq) >= 0 {
				continue
			}
			if tag.fsBlock >= f.blocks {
				return fmt.Errorf("ext4: journal writes block %d beyond the filesystem", tag.fsBlock)
			}
			data, err := j.read(tag.jpos)
			if err != nil {
				return err
			}
			if !j.dataOK(tag, t.seq, data) {
				f.warnings = append(f.warnings, fmt.Sprintf("journal block for block %d in transaction %d has a bad checksum; skipped", tag.fsBlock, t.seq))
				continue
			}
			if tag.escape {
				putBE32(data, jhMagic, jMagic)
			}
			overlay[tag.fsBlock] = data
		}
	}
	f.overlay = overlay
	f.replayed = len(trans)
	nextSeq := be32(j.sb, jsSequence) + uint32(len(trans))
	// Re-read the superblock and descriptors through the overlay.
	sb := make([]byte, sbSize)
	if err := f.readRaw(sb, sbOffset); err != nil {
		return err
	}
	if b, ok := overlay[sbOffset/uint64(f.bs)]; ok {
		copy(sb, b[sbOffset%f.bs:])
	}
	if err := f.parseSuper(sb); err != nil {
		return fmt.Errorf("ext4: after journal replay: %w", err)
	}
	if !f.writable {
		f.warnings = append(f.warnings, fmt.Sprintf("journal needed recovery: %d transactions replayed in memory", len(trans)))
		put32(f.sb, sbFeatureIncompat, le32(f.sb, sbFeatureIncompat)&^incompatRecover)
		return nil
	}
	// Write home, flush, empty the journal, flush, clear needs_recovery.
	for blk, data := range overlay {
		if _, err := f.dev.WriteAt(data, int64(blk)*f.bs); err != nil {
			return fmt.Errorf("ext4: journal replay: write block %d: %w", blk, err)
		}
	}
	if err := durable.Flush(f.dev); err != nil {
		return err
	}
	f.overlay = nil
	putBE32(j.sb, jsStart, 0)
	putBE32(j.sb, jsSequence, nextSeq)
	if j.csum() {
		putBE32(j.sb, jsChecksum, 0)
		putBE32(j.sb, jsChecksum, crc32c(0xFFFFFFFF, j.sb[:1024]))
	}
	if _, err := f.dev.WriteAt(j.sb, int64(j.blocks[0])*f.bs); err != nil {
		return err
	}
	if err := durable.Flush(f.dev); err != nil {
		return err
	}
	put32(f.sb, sbFeatureIncompat, le32(f.sb, sbFeatureIncompat)&^incompatRecover)
	f.superCounts()
	if err := f.writeSuper(); err != nil {
		return err
	}
	return durable.Flush(f.dev)
}
