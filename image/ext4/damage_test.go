package ext4

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"travelkit/image"
	"travelkit/image/internal/testutil"
)

// Issue 13 D: writing into a damaged filesystem must not destroy it. Each crafted volume
// is one that e2fsck rejects; travelkit must refuse to open it for writing (naming the
// group and pointing to e2fsck), write nothing, and still read it.

// damagedVolume formats a 300 MiB volume (3 groups of 128 MiB) with a file, then lets
// craft change its metadata through a read-only FS (descriptor checksums are fixed up,
// as a careless tool or a bit flip that kept them valid would).
func damagedVolume(t *testing.T, craft func(f *FS, dev *testutil.Dev)) (*testutil.Dev, string) {
	t.Helper()
	dev, path := testutil.SparseFile(t, "vol.img", 300<<20)
	if err := Format(dev, FormatOptions{Label: "kit"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFile("repo/config", bytes.NewReader([]byte("config")), 6, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path) // sound before the damage
	r, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	craft(r, dev)
	return dev, path
}

// writeGDT writes the (changed) descriptors of f back, with fresh checksums.
func writeGDT(t *testing.T, f *FS, dev *testutil.Dev) {
	t.Helper()
	for g := uint32(0); g < f.groups; g++ {
		f.gdChecksum(g)
	}
	blk := make([]byte, (int64(len(f.gdt))+f.bs-1)/f.bs*f.bs)
	copy(blk, f.gdt)
	if _, err := dev.WriteAt(blk, int64(f.gdtBlock)*f.bs); err != nil {
		t.Fatal(err)
	}
}

func wantRefused(t *testing.T, dev *testutil.Dev, path string, words ...string) {
	t.Helper()
	t0 := time.Now()
	out, err := testutil.Tool(t, "e2fsck", "-fn", path)
	t.Logf("e2fsck -fn: %v", time.Since(t0))
	if err == nil {
		t.Fatalf("e2fsck accepts the crafted volume; it is not the damage the test means:\n%s", out)
	}
	t0 = time.Now()
	c := image.NewCounting(dev)
	_, err = Open(c, Options{Writable: true})
	if !errors.Is(err, ErrNeedsFsck) {
		t.Fatalf("writable open of a damaged volume: %v", err)
	}
	for _, w := range append(words, "e2fsck -fy", "will not write") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	t.Logf("refused after %v: %v", time.Since(t0), err)
	if c.Writes() != 0 {
		t.Errorf("the refused open wrote %d times", c.Writes())
	}
	// Reading is still possible (to get the data out).
	r, err := Open(dev, Options{})
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	if b, err := r.ReadFile("repo/config"); err != nil || string(b) != "config" {
		t.Fatalf("read after refusal: %q %v", b, err)
	}
}

func TestRefuseZeroedBlockBitmap(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		dev.WriteAt(make([]byte, f.bs), int64(f.gdBlockBitmap(0))*f.bs)
	})
	wantRefused(t, dev, path, "group 0's block bitmap")
}

// The same with the descriptor's count made to agree: the bitmap no longer marks the
// group's own superblock and descriptors used.
func TestRefuseZeroedBlockBitmapCounted(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		dev.WriteAt(make([]byte, f.bs), int64(f.gdBlockBitmap(0))*f.bs)
		f.setGD16pair(0, bgFreeBlocks, bgFreeBlocksHi, f.groupBlocks(0))
		writeGDT(t, f, dev)
	})
	wantRefused(t, dev, path, "group 0's block bitmap marks block 0 free, which holds group 0's superblock and descriptors")
}

func TestRefuseInodeTableOnDescriptors(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		d := f.gd(1)
		put32(d, bgInodeTable, uint32(f.gdtBlock))
		if f.descSize >= 64 {
			put32(d, bgInodeTableHi, 0)
		}
		writeGDT(t, f, dev)
	})
	wantRefused(t, dev, path, "group 1's inode table", "overlaps group 0's superblock and descriptors")
}

// A bitmap freer than its descriptor (what a power cut between writeMeta's two writes
// can leave, and what a damaged bitmap looks like) is repaired the way e2fsck -p does:
// the open finds what the inodes in use claim, marks any of it that is marked free as
// used, and sets the counts from the bitmaps.
func TestRepairFreeCountFreer(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		f.setGD16pair(0, bgFreeBlocks, bgFreeBlocksHi, f.gdFreeBlocks(0)-100)
		writeGDT(t, f, dev)
	})
	wantRepaired(t, dev, path, "group 0's free block count corrected")
}

// wantRepaired: e2fsck -fn rejects the crafted volume; the writable open repairs it
// (warnings with words), a file written then does not overwrite repo/config, and after
// Close e2fsck -fn finds the volume clean.
func wantRepaired(t *testing.T, dev *testutil.Dev, path string, words ...string) {
	t.Helper()
	if out, err := testutil.Tool(t, "e2fsck", "-fn", path); err == nil {
		t.Fatalf("e2fsck accepts the crafted volume; it is not the damage the test means:\n%s", out)
	}
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(f.Warnings(), "; ")
	for _, word := range words {
		if !strings.Contains(w, word) {
			t.Errorf("warnings lack %q: %q", word, w)
		}
	}
	more := randBytes(40<<20, 1)
	if err := f.WriteFile("more", bytes.NewReader(more), int64(len(more)), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
	r, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadFile("repo/config"); err != nil || string(b) != "config" {
		t.Fatalf("repo/config after the repair and a write: %q %v", b, err)
	}
}

// A file's blocks marked free, with the descriptor's count agreeing, on a volume not
// closed cleanly (a power cut kept the freeing bitmap and descriptor and lost the
// inode that stopped using them): the open marks them used again, so the next write
// goes elsewhere.
func TestRepairBlocksInUseMarkedFree(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		n, err := f.lookup("repo/config")
		if err != nil {
			t.Fatal(err)
		}
		exts, _, _ := f.extents(n)
		b := exts[0].pblk
		g := uint32((b - f.firstData) / uint64(f.bpg))
		bm := make([]byte, f.bs)
		dev.ReadAt(bm, int64(f.gdBlockBitmap(g))*f.bs)
		clearBit(bm, int(b-f.groupStart(g)))
		dev.WriteAt(bm, int64(f.gdBlockBitmap(g))*f.bs)
		f.setGD16pair(g, bgFreeBlocks, bgFreeBlocksHi, f.gdFreeBlocks(g)+1)
		writeGDT(t, f, dev)
		put16(f.sb, sbState, le16(f.sb, sbState)&^stateValid)
		dev.WriteAt(f.sb, sbOffset)
	})
	wantRepaired(t, dev, path, "1 blocks and 0 inodes in use were marked free")
}

// Two inodes claiming the same block cannot be repaired by marking: refused, nothing
// written.
func TestRefuseBlockClaimedTwice(t *testing.T) {
	dev, _ := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		n, err := f.lookup("repo/config")
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.lookup("repo")
		if err != nil {
			t.Fatal(err)
		}
		d, _, _ := f.extents(r)
		exts, _, _ := f.extents(n)
		exts[0].pblk = d[0].pblk // the file's block is the folder's
		f.setExtentsInline(n, exts)
		blk, off, _ := f.inodeLoc(n.ino)
		dev.WriteAt(n.b, int64(blk)*f.bs+int64(off))
		put16(f.sb, sbState, le16(f.sb, sbState)&^stateValid)
		dev.WriteAt(f.sb, sbOffset)
	})
	c := image.NewCounting(dev)
	_, err := Open(c, Options{Writable: true})
	if !errors.Is(err, ErrNeedsFsck) || !strings.Contains(err.Error(), "both claim block") {
		t.Fatalf("writable open: %v", err)
	}
	if c.Writes() != 0 {
		t.Errorf("the refused open wrote %d times", c.Writes())
	}
}

// A bitmap that marks more used than its descriptor counts (what a kill between
// writeMeta's two writes leaves) is trusted: the counts are set from the bitmaps,
// and e2fsck then finds the volume clean.
func TestRepairFreeCountLeak(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		f.setGD16pair(0, bgFreeBlocks, bgFreeBlocksHi, f.gdFreeBlocks(0)+100)
		f.setGD16pair(0, bgFreeInodes, bgFreeInodesHi, f.gdFreeInodes(0)+1)
		writeGDT(t, f, dev)
	})
	if out, err := testutil.Tool(t, "e2fsck", "-fn", path); err == nil {
		t.Fatalf("e2fsck accepts the crafted volume:\n%s", out)
	}
	f, err := Open(dev, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(f.Warnings(), "; "); !strings.Contains(w, "group 0's free block count corrected") || !strings.Contains(w, "group 0's free inode count corrected") {
		t.Errorf("warnings: %q", w)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fsck(t, path)
}

// A file's inode marked free: marked used again.
func TestRepairInodeInUseMarkedFree(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		ib := make([]byte, f.bs)
		dev.ReadAt(ib, int64(f.gdInodeBitmap(0))*f.bs)
		clearBit(ib, int(le32(f.sb, sbFirstIno))) // the first file's inode, marked free
		dev.WriteAt(ib, int64(f.gdInodeBitmap(0))*f.bs)
	})
	wantRepaired(t, dev, path, "0 blocks and 1 inodes in use were marked free")
}

func TestRefuseJournalMarkedFree(t *testing.T) {
	dev, path := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		n, err := f.readInode(journalIno)
		if err != nil {
			t.Fatal(err)
		}
		exts, _, _ := f.extents(n)
		b := exts[0].pblk
		g := uint32((b - f.firstData) / uint64(f.bpg))
		bm := make([]byte, f.bs)
		dev.ReadAt(bm, int64(f.gdBlockBitmap(g))*f.bs)
		clearBit(bm, int(b-f.groupStart(g)))
		dev.WriteAt(bm, int64(f.gdBlockBitmap(g))*f.bs)
		f.setGD16pair(g, bgFreeBlocks, bgFreeBlocksHi, f.gdFreeBlocks(g)+1)
		writeGDT(t, f, dev)
	})
	wantRefused(t, dev, path, "the journal")
}

// A folder naming an inode not in use (its name durable, the inode lost) cannot be
// repaired by marking: refused, nothing written.
func TestRefuseNameOfUnusedInode(t *testing.T) {
	dev, _ := damagedVolume(t, func(f *FS, dev *testutil.Dev) {
		n, err := f.lookup("repo/config")
		if err != nil {
			t.Fatal(err)
		}
		blk, off, _ := f.inodeLoc(n.ino)
		dev.WriteAt(make([]byte, f.inodeSize), int64(blk)*f.bs+int64(off))
		put16(f.sb, sbState, le16(f.sb, sbState)&^stateValid)
		dev.WriteAt(f.sb, sbOffset)
	})
	c := image.NewCounting(dev)
	_, err := Open(c, Options{Writable: true})
	if !errors.Is(err, ErrNeedsFsck) || !strings.Contains(err.Error(), `names "config" as inode`) {
		t.Fatalf("writable open: %v", err)
	}
	if c.Writes() != 0 {
		t.Errorf("the refused open wrote %d times", c.Writes())
	}
}

// A volume closed cleanly whose counts agree is opened for writing without a scan or
// a write.
func TestCleanOpenWritesNothing(t *testing.T) {
	dev, _ := damagedVolume(t, func(f *FS, dev *testutil.Dev) {})
	c := image.NewCounting(dev)
	f, err := Open(c, Options{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Writes() != 0 || len(f.Warnings()) != 0 {
		t.Errorf("opening a clean volume wrote %d times, warned %q", c.Writes(), f.Warnings())
	}
}
