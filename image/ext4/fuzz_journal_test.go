package ext4

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cowDev is a copy-on-write view of a shared image: writes land in pages of their own,
// so that each fuzz input starts from the same 64 MiB image without copying it.
type cowDev struct {
	base  []byte
	pages map[int64][]byte
}

const cowPage = 4096

func newCOW(base []byte) *cowDev { return &cowDev{base: base, pages: map[int64][]byte{}} }

func (c *cowDev) Size() int64 { return int64(len(c.base)) }

func (c *cowDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(c.base)) {
		return 0, os.ErrInvalid
	}
	for n := 0; n < len(p); {
		pg, in := (off+int64(n))/cowPage, int((off+int64(n))%cowPage)
		src := c.base[pg*cowPage : (pg+1)*cowPage]
		if b, ok := c.pages[pg]; ok {
			src = b
		}
		n += copy(p[n:], src[in:])
	}
	return len(p), nil
}

func (c *cowDev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(c.base)) {
		return 0, os.ErrInvalid
	}
	for n := 0; n < len(p); {
		pg, in := (off+int64(n))/cowPage, int((off+int64(n))%cowPage)
		b, ok := c.pages[pg]
		if !ok {
			b = append([]byte(nil), c.base[pg*cowPage:(pg+1)*cowPage]...)
			c.pages[pg] = b
		}
		n += copy(b[in:], p[n:])
	}
	return len(p), nil
}

// kernelImage is testdata/image/kernel-unclean.img.gz unpacked in memory: a volume a
// Linux kernel wrote to and was cut off from, its changes only in the journal.
func kernelImage(tb testing.TB) []byte {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "image", "kernel-unclean.img.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b)%cowPage != 0 {
		tb.Fatalf("kernel image of %d bytes is not whole pages", len(b))
	}
	return b
}

// fuzzJournalBlocks is how many journal blocks, from the journal superblock on, the
// fuzzer writes over: the kernel's log takes blocks 1-24 (three transactions) and
// ends at 25; a few more let mutations make the log longer.
const fuzzJournalBlocks = 32

// journalLayout opens the kernel image's journal (through a read-only mount, which
// replays in memory) and returns the device offsets of its first blocks.
func journalLayout(tb testing.TB, img []byte) (offs []int64, bs int64) {
	tb.Helper()
	f, err := Open(newCOW(img), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if f.Replayed() == 0 {
		tb.Fatal("the kernel image's journal needs no recovery: the fuzzer would not reach the replay")
	}
	j, err := f.openJournal()
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < fuzzJournalBlocks; i++ {
		offs = append(offs, int64(j.blocks[i])*j.bs)
	}
	return offs, j.bs
}

// fixJournalSums recomputes, for a journal that claims checksums, the checksums the
// scanner checks first (superblock, descriptor and revoke tails, commit blocks), so
// that mutations reach the code behind them instead of stopping at a bad sum.
func fixJournalSums(blocks [][]byte) {
	sb := blocks[0]
	if be32(sb, jhMagic) != jMagic || be32(sb, jhBlockType) != jSuperV2 ||
		be32(sb, jsIncompat)&(jIncCsumV2|jIncCsumV3) == 0 {
		return
	}
	putBE32(sb, jsChecksum, 0)
	putBE32(sb, jsChecksum, crc32c(0xFFFFFFFF, sb[:1024]))
	seed := crc32c(0xFFFFFFFF, sb[jsUUID:jsUUID+16])
	for _, b := range blocks[1:] {
		if be32(b, jhMagic) != jMagic {
			continue
		}
		switch be32(b, jhBlockType) {
		case jDescriptor, jRevoke:
			putBE32(b, len(b)-4, 0)
			putBE32(b, len(b)-4, crc32c(seed, b))
		case jCommit:
			putBE32(b, 16, 0)
			putBE32(b, 16, crc32c(seed, b))
		}
	}
}

// FuzzJournalReplay mutates the journal of a volume the Linux kernel left unclean, in
// place: the journal superblock and the log (descriptor, data, revoke and commit
// blocks), so that the scan and the replay see the fuzzed bytes. The volume is then
// mounted read-only (replay in memory) and writable (replay written home, journal
// emptied, allocation checked), and its tree read. Every outcome must be a clean
// error or a working volume; never a panic, a hang or a huge allocation.
func FuzzJournalReplay(f *testing.F) {
	img := kernelImage(f)
	offs, bs := journalLayout(f, img)
	seed := make([]byte, 0, len(offs)*int(bs))
	for _, o := range offs {
		seed = append(seed, img[o:o+bs]...)
	}
	f.Add(seed, false)
	// The same log with checksums claimed (v3), fixed up by the harness.
	v3 := bytes.Clone(seed)
	putBE32(v3, jsIncompat, be32(v3, jsIncompat)|jIncCsumV3)
	f.Add(v3, true)
	// Only the journal superblock and the first transaction's descriptor.
	f.Add(bytes.Clone(seed[:2*bs]), false)

	f.Fuzz(func(t *testing.T, journal []byte, fixSums bool) {
		if len(journal) > len(offs)*int(bs) {
			journal = journal[:len(offs)*int(bs)]
		}
		for _, writable := range []bool{false, true} {
			d := newCOW(img)
			var blocks [][]byte
			for i, o := range offs {
				lo := int64(i) * bs
				if lo >= int64(len(journal)) {
					break
				}
				b := make([]byte, bs)
				copy(b, img[o:o+bs])
				copy(b, journal[lo:])
				blocks = append(blocks, b)
			}
			if fixSums && len(blocks) > 0 {
				fixJournalSums(blocks)
			}
			for i, b := range blocks {
				if _, err := d.WriteAt(b, offs[i]); err != nil {
					t.Fatal(err)
				}
			}
			fs, err := Open(d, Options{Writable: writable})
			if err != nil {
				continue
			}
			readTree(fs, 200)
			if writable {
				// the replayed volume takes a write
				_ = fs.WriteFile("fuzz/after-replay.txt", bytes.NewReader([]byte("x")), 1, time.Unix(1e9, 0))
				_ = fs.Close()
			}
		}
	})
}

// readTree reads directories and small files, at most budget directories deep and wide.
func readTree(fs *FS, budget int) {
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		if depth > 8 || budget <= 0 {
			return
		}
		budget--
		ents, err := fs.ReadDir(p)
		if err != nil {
			return
		}
		for _, e := range ents {
			q := p + "/" + e.Name
			if e.IsDir() {
				walk(q, depth+1)
			} else if e.Mode.IsRegular() && e.Size < 1<<20 {
				_, _ = fs.ReadFile(q)
			}
		}
	}
	walk("", 0)
}
