package repo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"travelkit/internal/bytesize"
)

// CheckOptions select how much a check reads.
type CheckOptions struct {
	// ReadData reads every pack file and checks every blob.
	ReadData bool
	// ReadDataPercent reads a random subset of that share of the packs
	// (0 < p <= 100); ignored when ReadData is set.
	ReadDataPercent float64
	// Progress is called after each pack read.
	Progress func(done, total int)
}

// CheckResult lists the problems check found. Errors make the repository
// damaged; Orphaned packs are harmless leftovers that prune removes.
type CheckResult struct {
	Errors []error
	// MoreErrors counts the errors found beyond the first maxCheckErrors.
	MoreErrors  int
	Orphaned    []ID
	Snapshots   int
	Trees       int
	Packs       int
	PacksRead   int
	DamagedPack []ID
}

// OK reports whether no errors were found.
func (c *CheckResult) OK() bool { return len(c.Errors) == 0 && c.MoreErrors == 0 }

type checker struct {
	r   *Repository
	mu  sync.Mutex
	res *CheckResult
	bad map[ID]bool
}

// maxCheckErrors bounds the errors check keeps; the others are counted.
const maxCheckErrors = 1000

func (c *checker) errorf(format string, a ...any) {
	c.mu.Lock()
	c.add(fmt.Errorf(format, a...))
	c.mu.Unlock()
}

// add records an error; the caller holds c.mu.
func (c *checker) add(err error) {
	if len(c.res.Errors) >= maxCheckErrors {
		c.res.MoreErrors++
		return
	}
	c.res.Errors = append(c.res.Errors, err)
}

func (c *checker) badPack(id ID, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(&PackError{Pack: id, Err: err})
	if !c.bad[id] {
		c.bad[id] = true
		c.res.DamagedPack = append(c.res.DamagedPack, id)
	}
}

// packBudget bounds the bytes of whole packs check holds at once.
const packBudget = 256 << 20

// Check verifies the repository structure and, if asked, its data. It loads
// the index itself.
func (r *Repository) Check(ctx context.Context, opts CheckOptions) (*CheckResult, error) {
	c := &checker{r: r, res: &CheckResult{}, bad: map[ID]bool{}}
	if err := c.checkIndex(ctx); err != nil {
		return nil, err
	}
	packs, sizes, err := c.checkPacks(ctx)
	if err != nil {
		return nil, err
	}
	c.checkSnapshots(ctx)
	c.readData(ctx, c.packsToRead(packs, opts), sizes, opts.Progress)
	return c.res, ctx.Err()
}

// checkIndex is step 1: it reads the index files one by one, so that a damaged one is
// named, and makes what they hold the repository's index.
func (c *checker) checkIndex(ctx context.Context) error {
	r := c.r
	type file struct {
		id   ID
		size int64
	}
	var idxFiles []file
	if err := r.st.List(ctx, IndexFile, func(name string, size int64) error {
		id, err := ParseID(name)
		if err != nil {
			return nil
		}
		idxFiles = append(idxFiles, file{id, size})
		return nil
	}); err != nil {
		return err
	}
	idx := NewIndex()
	total := 0
	for _, f := range idxFiles {
		err := r.readIndexFile(ctx, f.id, f.size, func(batch []PackedBlob) error {
			if total += len(batch); total > maxIndexBlobs {
				return fmt.Errorf("the index lists more than %d blobs, more than travelkit holds in memory: %w", maxIndexBlobs, ErrTooLarge)
			}
			for _, pb := range batch {
				idx.add(pb)
			}
			return nil
		})
		if err != nil {
			c.errorf("index %s: %v", f.id, err)
			if errors.Is(err, ErrTooLarge) && total > maxIndexBlobs {
				break
			}
			continue
		}
		idx.files = append(idx.files, f.id)
	}
	r.idx = idx
	r.idxLoaded.Store(true)
	return nil
}

// checkPacks is step 2: every pack the index names is present and of the size its
// entries add up to; packs it does not name are orphaned. It returns the packs the index
// names, sorted, and the size of every pack file present.
func (c *checker) checkPacks(ctx context.Context) (packs []ID, sizes map[ID]int64, err error) {
	sizes = map[ID]int64{}
	if err := c.r.st.List(ctx, PackFile, func(name string, size int64) error {
		id, err := ParseID(name)
		if err != nil {
			return nil
		}
		sizes[id] = size
		return nil
	}); err != nil {
		return nil, nil, err
	}
	want := map[ID]int64{}
	entries := map[ID]int64{}
	type loc struct {
		pack ID
		off  uint32
	}
	counted := map[loc]bool{}
	c.r.idx.Each(func(pb PackedBlob) {
		end := int64(pb.Offset) + int64(pb.Length)
		if end > want[pb.PackID] {
			want[pb.PackID] = end
		}
		if counted[loc{pb.PackID, pb.Offset}] {
			return
		}
		counted[loc{pb.PackID, pb.Offset}] = true
		if pb.UncompressedLength != 0 {
			entries[pb.PackID] += compressedEntrySize
		} else {
			entries[pb.PackID] += plainEntrySize
		}
	})
	for id := range want {
		packs = append(packs, id)
		got, ok := sizes[id]
		if !ok {
			c.badPack(id, errors.New("referenced in the index but missing"))
			continue
		}
		if exp := want[id] + entries[id] + Overhead + 4; got != exp {
			c.badPack(id, fmt.Errorf("size %d does not match the index (expected %d)", got, exp))
		}
	}
	for id := range sizes {
		if _, ok := want[id]; !ok {
			c.res.Orphaned = append(c.res.Orphaned, id)
		}
	}
	c.res.Packs = len(packs)
	sort.Slice(packs, func(i, j int) bool { return string(packs[i][:]) < string(packs[j][:]) })
	return packs, sizes, nil
}

// checkSnapshots is step 3: the snapshots load, and every tree they reach loads, within
// the bounds, and names only data blobs the index has.
func (c *checker) checkSnapshots(ctx context.Context) {
	sns, bad, err := c.r.LoadSnapshots(ctx)
	if err != nil {
		c.errorf("snapshots: %v", err)
	}
	for _, e := range bad {
		c.errorf("%v", e)
	}
	c.res.Snapshots = len(sns)
	w := &treeWalk{c: c, seen: map[ID]bool{}}
	for _, sn := range sns {
		w.walk(ctx, *sn.Tree, "")
	}
}

// treeWalk visits every tree once (a visited set), depth first, with paths and the tree
// bytes held along one path bounded.
type treeWalk struct {
	c     *checker
	seen  map[ID]bool
	stack int64 // bytes of the trees on the current path
}

func (w *treeWalk) walk(ctx context.Context, id ID, path string) {
	c := w.c
	if w.seen[id] || ctx.Err() != nil {
		return
	}
	w.seen[id] = true
	c.res.Trees++
	t, size, err := c.r.loadTreeSized(ctx, id)
	if err != nil {
		c.errorf("tree %s (%s): %v", id.Str(), path, err)
		return
	}
	if w.stack+size > maxTreeStack {
		c.errorf("tree %s (%s): the folders above it hold more than %s of listings: %v", id.Str(), path, bytesize.Format(maxTreeStack), ErrTooLarge)
		return
	}
	w.stack += size
	defer func() { w.stack -= size }()
	for _, n := range t.Nodes {
		p := path + "/" + n.Name
		if len(p) > MaxPathLen {
			c.errorf("tree %s: %q...: path longer than %d bytes: %v", id.Str(), p[:64], MaxPathLen, ErrTooLarge)
			return
		}
		switch n.Type {
		case NodeFile:
			for _, b := range n.Content {
				if !c.r.idx.Has(BlobHandle{ID: b, Type: DataBlob}) {
					c.errorf("file %q: data blob %s not in index", p, b.Str())
				}
			}
		case NodeDir:
			if n.Subtree == nil {
				c.errorf("folder %q has no subtree", p)
				continue
			}
			w.walk(ctx, *n.Subtree, p)
		}
	}
}

// packsToRead chooses the packs step 4 reads: all with ReadData, a random share with
// ReadDataPercent (a random cut of their IDs, as restic does), else none.
func (c *checker) packsToRead(packs []ID, opts CheckOptions) []ID {
	switch {
	case opts.ReadData:
		return packs
	case opts.ReadDataPercent > 0:
		n := int(float64(len(packs))*opts.ReadDataPercent/100 + 0.5)
		if n == 0 && len(packs) > 0 {
			n = 1
		}
		var toRead []ID
		for _, i := range randPerm(len(packs))[:min(n, len(packs))] {
			toRead = append(toRead, packs[i])
		}
		return toRead
	}
	return nil
}

// readData is step 4: it reads the packs given (blob by blob from a LocalReader, else
// whole) and checks every blob in them against the index, with a few workers and at
// most packBudget bytes of whole packs at once.
func (c *checker) readData(ctx context.Context, toRead []ID, sizes map[ID]int64, progress func(done, total int)) {
	if len(toRead) == 0 {
		return
	}
	byPack := map[ID][]PackedBlob{}
	c.r.idx.Each(func(pb PackedBlob) { byPack[pb.PackID] = append(byPack[pb.PackID], pb) })
	ch := make(chan ID)
	var wg sync.WaitGroup
	var done int
	budget := newByteBudget(packBudget)
	for i := 0; i < min(runtime.GOMAXPROCS(0), maxCheckWorkers); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte // one pack buffer per worker, reused
			var sc packScratch
			for id := range ch {
				if size, ok := sizes[id]; ok {
					if rr, ok := c.r.st.(LocalReader); ok && size > 0 {
						// a local pack is read blob by blob: no 16 MiB buffer
						c.streamPack(ctx, rr, id, size, byPack[id], &sc)
					} else if size > reusedPackBuffer {
						// an unusually large pack: read under the budget
						n := min(max(size, 0), maxPackFile)
						budget.acquire(n)
						c.readPack(ctx, id, size, byPack[id], nil)
						budget.release(n)
					} else {
						buf = c.readPack(ctx, id, size, byPack[id], buf)
					}
				}
				c.mu.Lock()
				done++
				c.res.PacksRead++
				if progress != nil {
					progress(done, len(toRead))
				}
				c.mu.Unlock()
			}
		}()
	}
	for _, id := range toRead {
		if ctx.Err() != nil {
			break
		}
		ch <- id
	}
	close(ch)
	wg.Wait()
}

// readPack loads a whole pack of the listed size into buf (when the storage
// reads into a caller's buffer and the pack fits a reused buffer; it returns the
// buffer to reuse) and checks its name, header and blobs. Sizes are bounded
// before anything is allocated.
func (c *checker) readPack(ctx context.Context, id ID, size int64, indexed []PackedBlob, buf []byte) []byte {
	h := Handle{PackFile, id.String()}
	var data []byte
	var err error
	if rr, ok := c.r.st.(RangeReader); ok && size > 0 && size <= reusedPackBuffer {
		if int64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		data = buf[:size]
		err = rr.ReadAt(ctx, h, data, 0)
	} else {
		data, err = c.r.loadFile(ctx, h, size)
	}
	if err != nil {
		c.badPack(id, err)
		return buf
	}
	c.checkPack(id, data, indexed)
	return buf
}

// Whole packs read by check --read-data: up to reusedPackBuffer into a buffer each worker
// keeps (restic's default packs are 16 MiB), larger ones (up to maxPackFile) under
// packBudget, with at most maxCheckWorkers workers.
const (
	reusedPackBuffer = 32 << 20
	maxCheckWorkers  = 8
)

// packScratch holds the buffers one check worker reuses across packs.
type packScratch struct {
	tail, raw, plain []byte
}

// streamPack checks a pack read blob by blob, as checkPack does for a whole
// one: its header first (from the end), then each blob, hashing the file as
// it goes. A worker holds the largest blob it met, not a 16 MiB pack. Errors
// are reported in checkPack's order: the name first.
func (c *checker) streamPack(ctx context.Context, rr RangeReader, id ID, size int64, indexed []PackedBlob, sc *packScratch) {
	h := Handle{PackFile, id.String()}
	if size > maxPackFile {
		c.badPack(id, tooLarge("the pack file", size, maxPackFile))
		return
	}
	// the tail: the header length, then the header
	tl := min(size, 64<<10)
	var errs []error
	hash := sha256.New()
	read := func(p []byte, off int64) bool {
		if err := rr.ReadAt(ctx, h, p, off); err != nil {
			c.badPack(id, err)
			return false
		}
		return true
	}
	// hashRange hashes [from, to) in pieces, for what is not read as a blob
	hashRange := func(from, to int64) bool {
		sc.raw = grow(sc.raw, 256<<10)
		for from < to {
			p := sc.raw[:min(to-from, int64(len(sc.raw)))]
			if !read(p, from) {
				return false
			}
			hash.Write(p)
			from += int64(len(p))
		}
		return true
	}
	sc.tail = grow(sc.tail, int(tl))
	tail := sc.tail[:tl]
	if !read(tail, size-tl) {
		return
	}
	// the same checks, in the same order, as checkPack
	var hl int
	var blobs []PackedBlob
	var err error
	if size < 4 {
		err = errors.New("too short")
	} else if hl = int(binary.LittleEndian.Uint32(tail[len(tail)-4:])); int64(hl)+4 > size {
		err = errors.New("header length larger than the file")
	} else {
		if int64(hl)+4 > tl && hl <= maxHeaderSize {
			sc.tail = grow(sc.tail, hl+4)
			tail = sc.tail[:hl+4]
			if !read(tail, size-int64(len(tail))) {
				return
			}
		}
		blobs, err = parsePackHeader(c.r.key, id, tail, size)
	}
	if err != nil {
		// no blobs to follow: hash the file for its name, then report
		if !hashRange(0, size) {
			return
		}
		if ID(hash.Sum(nil)) != id {
			c.badPack(id, errors.New("content does not match its name (damaged file)"))
		}
		c.badPack(id, err)
		return
	}
	var off int64
	for _, b := range blobs {
		if b.Length > maxStoredBlob(b.Type) {
			errs = append(errs, fmt.Errorf("%s blob %s: %w", b.Type, b.ID.Str(),
				tooLarge("the blob", int64(b.Length), int64(maxStoredBlob(b.Type)))))
			if !hashRange(off, off+int64(b.Length)) {
				return
			}
			off += int64(b.Length)
			continue
		}
		sc.raw = grow(sc.raw, int(b.Length))
		raw := sc.raw[:b.Length]
		if !read(raw, off) {
			return
		}
		hash.Write(raw) // before it is decrypted in place
		off += int64(b.Length)
		p, err := c.r.openBlob(b, raw, sc.plain)
		if err != nil {
			errs = append(errs, errors.Unwrap(err))
			continue
		}
		if cap(p) <= keepScratch+zstdSlack && !sameArray(p, sc.raw) {
			sc.plain = p
		}
	}
	if cap(sc.raw) > keepScratch {
		sc.raw = nil
	}
	// what lies between the last blob and the header, then the header
	hdrStart := size - int64(hl) - 4
	if !hashRange(off, hdrStart) {
		return
	}
	if tl := int64(len(tail)); tl < size-hdrStart {
		if !hashRange(hdrStart, size-tl) {
			return
		}
		hash.Write(tail)
	} else {
		hash.Write(tail[tl-(size-hdrStart):])
	}
	if ID(hash.Sum(nil)) != id {
		c.badPack(id, errors.New("content does not match its name (damaged file)"))
	}
	c.compareIndexed(id, blobs, indexed)
	for _, err := range errs {
		c.badPack(id, err)
	}
}

// sameArray reports whether a and b end in the same array (b lies in a, or a in b).
func sameArray(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}

// grow returns b with a length of at least n, reallocated when it is shorter.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:cap(b)]
}

func (c *checker) checkPack(id ID, data []byte, indexed []PackedBlob) {
	if sha256.Sum256(data) != id {
		c.badPack(id, errors.New("content does not match its name (damaged file)"))
	}
	if len(data) < 4 {
		c.badPack(id, errors.New("too short"))
		return
	}
	hl := int(binary.LittleEndian.Uint32(data[len(data)-4:]))
	if hl+4 > len(data) {
		c.badPack(id, errors.New("header length larger than the file"))
		return
	}
	blobs, err := parsePackHeader(c.r.key, id, data[len(data)-4-hl:], int64(len(data)))
	if err != nil {
		c.badPack(id, err)
		return
	}
	c.compareIndexed(id, blobs, indexed)
	var buf []byte
	for _, b := range blobs {
		end := int(b.Offset) + int(b.Length)
		if end > len(data) {
			c.badPack(id, fmt.Errorf("blob %s extends past the end", b.ID.Str()))
			continue
		}
		p, err := c.r.openBlob(b, data[b.Offset:end], buf)
		if err != nil {
			c.badPack(id, errors.Unwrap(err))
			continue
		}
		if !sameArray(p, data) {
			buf = p
		}
	}
}

// compareIndexed reports blobs the index places otherwise than the pack header.
func (c *checker) compareIndexed(id ID, blobs, indexed []PackedBlob) {
	inHeader := map[BlobHandle]PackedBlob{}
	for _, b := range blobs {
		inHeader[b.BlobHandle] = b
	}
	for _, ib := range indexed {
		hb, ok := inHeader[ib.BlobHandle]
		if !ok {
			c.badPack(id, fmt.Errorf("%s blob %s is in the index but not in the pack header", ib.Type, ib.ID.Str()))
			continue
		}
		if hb.Offset != ib.Offset || hb.Length != ib.Length || hb.UncompressedLength != ib.UncompressedLength {
			c.badPack(id, fmt.Errorf("%s blob %s: index and pack header disagree", ib.Type, ib.ID.Str()))
		}
	}
}
