package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"travelkit/internal/bytesize"
)

// Index maps blobs to their place in pack files. It is compact, because a
// home folder of a million files has a million blobs: pack IDs are kept once
// in a table, entries (48 bytes each) in pages of a fixed size, and lookups go
// through an open-addressing table of entry numbers (4 bytes a slot, 2-4 slots
// a blob). The pages are never copied as the index grows: one flat slice
// grown by append held its old and its new array at once (2.25 times the
// entries at each step) and a quarter more than it used.
//
// Once a backup starts saving (mapNewMem), the pages and the table made from then
// on are memory mapped outside the collected heap on Unix (they hold no
// pointers): the collector's headroom (GOGC, a quarter of the heap in a backup)
// is then not paid on the blobs the backup adds, and a table replaced as the
// index grows goes back to the system at once instead of staying resident until
// the scavenger returns it. An index loaded from the repository stays on the
// heap: off it, a no-change incremental's heap was 5 MB instead of 22 MB, and
// the collector, keeping a quarter of that as headroom, ran 4 times as often
// (546 collections, 1.33x the CPU at 300,000 files). A backup that saves
// blobs keeps 25-35 MB of chunk buffers and encoders on the heap, so there the
// pace barely changes.
type Index struct {
	mu      sync.RWMutex
	pages   [][]indexEntry // every entry, duplicates included, pageSize a page
	n       int            // entries
	slots   []int32        // entry number + 1 of the first entry per blob; 0 is empty
	blobs   int            // distinct blobs
	packs   []ID
	packNum map[ID]int32
	files   []ID
	mem     *indexMem // the mapped memory behind pages and slots, if any
	mapNew  bool      // pages and tables made from now on are mapped
	// known holds the data blobs of an index loaded for a backup, without
	// their places (Lookup does not find them): see IndexForBackup
	known *knownSet
}

// mapNewMem makes the pages and tables made from now on mapped memory (where the
// system has it).
func (x *Index) mapNewMem() {
	x.mu.Lock()
	x.mapNew = true
	x.mu.Unlock()
}

// release empties the index and hands its mapped memory back at once (for an
// index nothing else uses any more).
func (x *Index) release() {
	x.mu.Lock()
	if x.mem != nil {
		x.mem.free()
	}
	x.pages, x.slots, x.n, x.blobs, x.known = nil, nil, 0, 0, nil
	x.packs, x.packNum = nil, map[ID]int32{}
	x.mu.Unlock()
}

// indexMem is the memory mapped for an index. It is unmapped when the index is
// collected: nothing outside the index keeps a pointer into it (Lookup and
// Each return copies, an entryRun holds the index itself).
type indexMem struct {
	pages [][]byte
	slots []byte
	freed atomic.Bool // for tests
}

func (m *indexMem) free() {
	for _, b := range m.pages {
		unmapIndexMem(b)
	}
	if m.slots != nil {
		unmapIndexMem(m.slots)
	}
	m.pages, m.slots = nil, nil
	m.freed.Store(true)
}

// mapped returns n bytes of mapped memory for the index, or nil (then the
// caller uses the heap).
func (x *Index) mapped(n int) []byte {
	if !x.mapNew {
		return nil
	}
	b := mapIndexMem(n)
	if b == nil {
		return nil
	}
	if x.mem == nil {
		x.mem = &indexMem{}
		runtime.AddCleanup(x, (*indexMem).free, x.mem)
	}
	return b
}

const indexEntrySize = int(unsafe.Sizeof(indexEntry{}))

// newPage returns an empty page of the index: a whole mapped page (resident as
// it is written), or on the heap a small first page that grows as a small
// index needs it, then whole pages.
func (x *Index) newPage(first bool) []indexEntry {
	if b := x.mapped(pageSize * indexEntrySize); b != nil {
		x.mem.pages = append(x.mem.pages, b)
		return unsafe.Slice((*indexEntry)(unsafe.Pointer(&b[0])), pageSize)[:0]
	}
	if first {
		return make([]indexEntry, 0, 16)
	}
	return make([]indexEntry, 0, pageSize)
}

// newSlots returns a zeroed table of n slots, after handing back the old one.
func (x *Index) newSlots(n int) []int32 {
	if x.mem != nil && x.mem.slots != nil {
		unmapIndexMem(x.mem.slots)
		x.mem.slots = nil
	}
	x.slots = nil // the old table is garbage before the new one is made
	if b := x.mapped(n * 4); b != nil {
		x.mem.slots = b
		return unsafe.Slice((*int32)(unsafe.Pointer(&b[0])), n)
	}
	return make([]int32, n)
}

// pageSize is the number of entries in a page of the index (about 197 KB).
const pageSize = 4096

// indexEntry is 48 bytes: the blob type shares a word with the pack number.
type indexEntry struct {
	id      ID
	packTyp uint32 // pack number << 2 | blob type
	offset  uint32
	length  uint32
	ulen    uint32
}

func (e *indexEntry) pack() int32   { return int32(e.packTyp >> 2) }
func (e *indexEntry) typ() BlobType { return BlobType(e.packTyp & 3) }

func (e *indexEntry) handle() BlobHandle { return BlobHandle{ID: e.id, Type: e.typ()} }

func (x *Index) blob(e *indexEntry) PackedBlob {
	return PackedBlob{BlobHandle: e.handle(), PackID: x.packs[e.pack()], Offset: e.offset,
		Length: e.length, UncompressedLength: e.ulen}
}

// entry returns entry number i.
func (x *Index) entry(i int) *indexEntry { return &x.pages[i/pageSize][i%pageSize] }

// appendEntry adds e after the last entry.
func (x *Index) appendEntry(e indexEntry) {
	last := len(x.pages) - 1
	if last < 0 || len(x.pages[last]) == pageSize {
		x.pages = append(x.pages, x.newPage(last < 0))
		last++
	}
	p := x.pages[last]
	if len(p) == cap(p) {
		np := make([]indexEntry, len(p), min(pageSize, 2*cap(p)))
		copy(np, p)
		p = np
	}
	x.pages[last] = append(p, e)
	x.n++
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{packNum: map[ID]int32{}}
}

// Add records a blob location.
func (x *Index) Add(pb PackedBlob) {
	x.mu.Lock()
	x.add(pb)
	x.mu.Unlock()
}

// entryRun is a run of consecutive entries of an index: the blobs of one
// pack, for an index file written later from the index itself (a backup keeps
// no second list of what it saved).
type entryRun struct {
	x          *Index
	first, end int
}

// addRun records blobs (of one pack) as consecutive entries and returns them.
func (x *Index) addRun(blobs []PackedBlob) entryRun {
	x.mu.Lock()
	defer x.mu.Unlock()
	first := x.n
	for i := range blobs {
		x.add(blobs[i])
	}
	return entryRun{x: x, first: first, end: x.n}
}

// slotOf hashes a handle to its first probe position. The IDs come from a
// repository that may be crafted: they need not be SHA-256 values, and an index
// of 100,000 IDs sharing the bytes a fixed hash looks at took five minutes to
// load (every insert probed the whole chain). A hash keyed with a random seed
// of this process cannot be aimed at.
func slotOf(h BlobHandle, mask int) int {
	return int((maphash.Comparable(indexSeed, h.ID) ^ uint64(h.Type)*0x9E3779B97F4A7C15) & uint64(mask))
}

var indexSeed = maphash.MakeSeed()

// find returns the slot holding h, or the empty slot where it would go.
func (x *Index) find(h BlobHandle) (int, bool) {
	mask := len(x.slots) - 1
	for i := slotOf(h, mask); ; i = (i + 1) & mask {
		n := x.slots[i]
		if n == 0 {
			return i, false
		}
		if e := x.entry(int(n) - 1); e.id == h.ID && e.typ() == h.Type {
			return i, true
		}
	}
}

func (x *Index) grow() {
	x.slots = x.newSlots(max(1024, 2*len(x.slots)))
	for i := 0; i < x.n; i++ {
		if j, ok := x.find(x.entry(i).handle()); !ok {
			x.slots[j] = int32(i + 1)
		}
	}
}

func (x *Index) add(pb PackedBlob) {
	if 2*(x.blobs+1) > len(x.slots) {
		x.grow()
	}
	pn, ok := x.packNum[pb.PackID]
	if !ok {
		pn = int32(len(x.packs))
		x.packs = append(x.packs, pb.PackID)
		x.packNum[pb.PackID] = pn
	}
	// the decoder passes only data and tree blobs (1 and 2), and an index
	// holds far fewer than 2^30 packs (maxIndexBlobs, and the memory for them)
	x.appendEntry(indexEntry{id: pb.ID, packTyp: uint32(pn)<<2 | uint32(pb.Type&3), offset: pb.Offset,
		length: pb.Length, ulen: pb.UncompressedLength})
	if j, ok := x.find(pb.BlobHandle); !ok {
		x.slots[j] = int32(x.n)
		x.blobs++
	}
}

// addLoaded adds a blob read from an index file: a data blob only to known
// when the index has one.
func (x *Index) addLoaded(pb PackedBlob) {
	if x.known != nil && pb.Type == DataBlob {
		x.known.Add(pb.BlobHandle)
		return
	}
	x.add(pb)
}

// Lookup returns where a blob is stored. An index loaded for a backup does not
// know where its data blobs are.
func (x *Index) Lookup(h BlobHandle) (PackedBlob, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.slots) == 0 {
		return PackedBlob{}, false
	}
	i, ok := x.find(h)
	if !ok {
		return PackedBlob{}, false
	}
	return x.blob(x.entry(int(x.slots[i]) - 1)), true
}

// Has reports whether the blob is in the index.
func (x *Index) Has(h BlobHandle) bool {
	x.mu.RLock()
	ok := false
	if len(x.slots) > 0 {
		_, ok = x.find(h)
	}
	if !ok && x.known != nil && h.Type == DataBlob {
		ok = x.known.Has(h)
	}
	x.mu.RUnlock()
	return ok
}

// Each calls fn for every entry, duplicates included.
func (x *Index) Each(fn func(PackedBlob)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, p := range x.pages {
		for i := range p {
			fn(x.blob(&p[i]))
		}
	}
}

// Packs returns the set of packs the index mentions.
func (x *Index) Packs() map[ID]struct{} {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := make(map[ID]struct{}, len(x.packs))
	for _, k := range x.packs {
		m[k] = struct{}{}
	}
	return m
}

// Files returns the index files loaded into x.
func (x *Index) Files() []ID {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]ID(nil), x.files...)
}

// Len returns the number of distinct blobs.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.known != nil {
		return x.blobs + x.known.n
	}
	return x.blobs
}

type indexBlobJSON struct {
	ID                 ID       `json:"id"`
	Type               BlobType `json:"type"`
	Offset             uint32   `json:"offset"`
	Length             uint32   `json:"length"`
	UncompressedLength uint32   `json:"uncompressed_length,omitempty"`
}

type indexPackJSON struct {
	ID    ID              `json:"id"`
	Blobs []indexBlobJSON `json:"blobs"`
}

type indexJSON struct {
	Supersedes []ID            `json:"supersedes,omitempty"`
	Packs      []indexPackJSON `json:"packs"`
}

// DecodeIndex parses an index file's plaintext.
func DecodeIndex(b []byte) ([]PackedBlob, []ID, error) {
	var out []PackedBlob
	sup, err := DecodeIndexStream(bytes.NewReader(b), func(pb PackedBlob) error {
		out = append(out, pb)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, sup, nil
}

// EncodeIndex writes index file JSON for blobs, grouped by pack in order of appearance.
func EncodeIndex(blobs []PackedBlob) ([]byte, error) {
	return appendIndexJSON(nil, blobs)
}

// IndexCompactBlobs is the number of blobs the index keeps compact
// (IndexForBackup), without their places.
func (r *Repository) IndexCompactBlobs() int {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	x := r.idx
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.known == nil {
		return 0
	}
	return x.known.n
}

// IndexForBackup makes a large index (compactIndexBytes), when it is next loaded, keep data blobs
// only as known (knownSet: about 18 bytes a blob instead of 60-64), without their
// places: a backup asks whether a data blob is stored, never where. Trees keep
// their places (the parent snapshot's are read). After the next Backup, with
// or without an error, the index is loaded again in full when next used. Call
// before LoadIndex, for a Repository that makes one backup.
func (r *Repository) IndexForBackup() { r.idxForBackup.Store(true) }

// compactIndexBytes is the smallest index (its stored files) IndexForBackup
// keeps compact: about 380,000 blobs (index files take about 44 bytes a
// blob). Below, a backup's peak is the key's scrypt at its start, not the
// index (a no-change incremental of 300,000 files: 56.9 MiB compact, 58.8
// whole), and the tags cost about 5% of its CPU.
var compactIndexBytes int64 = 16 << 20 // a variable for tests

// ensureIndex loads the index on first use: commands that read no blobs (snapshots,
// forget without prune, unlock) never pay for it.
func (r *Repository) ensureIndex(ctx context.Context) error {
	if r.idxLoaded.Load() {
		return nil
	}
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	if r.idxLoaded.Load() {
		return nil
	}
	return r.loadIndex(ctx)
}

// LoadIndex reads every index file into the repository's index.
func (r *Repository) LoadIndex(ctx context.Context) error {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	return r.loadIndex(ctx)
}

// RefreshIndex makes sure the index is the repository's as it is now: it lists the index
// files and loads them again unless they are exactly the ones the index was loaded from
// (index files never change: a new name is a new file). A backup loads the index while
// it takes its lock and refreshes it once it holds the lock, so that packs another
// command (a prune) replaced meanwhile are seen.
func (r *Repository) RefreshIndex(ctx context.Context) error {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	if r.idxLoaded.Load() {
		same, err := r.indexCurrent(ctx)
		if err != nil {
			return err
		}
		if same {
			return nil
		}
	}
	return r.loadIndex(ctx)
}

// ErrIndexChanged says that the repository's index files are no longer the ones loaded
// (a prune replaced them meanwhile): what was planned on the loaded index must be planned
// again. IndexCurrent's callers return it from their checks; it never reaches a person.
var ErrIndexChanged = errors.New("repo: the index changed since it was loaded")

// IndexCurrent reports whether the loaded index's files are exactly the repository's
// index files now (false when no index is loaded). A restore counts its snapshot while
// it takes its lock and asks this once it holds the lock.
func (r *Repository) IndexCurrent(ctx context.Context) (bool, error) {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	if !r.idxLoaded.Load() {
		return false, nil
	}
	return r.indexCurrent(ctx)
}

func (r *Repository) indexCurrent(ctx context.Context) (bool, error) {
	have := make(map[ID]bool)
	r.idx.mu.RLock()
	for _, id := range r.idx.files {
		have[id] = true
	}
	r.idx.mu.RUnlock()
	n, same := 0, true
	err := r.st.List(ctx, IndexFile, func(name string, size int64) error {
		if id, err := ParseID(name); err == nil {
			n++
			same = same && have[id]
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("listing index files: %w", err)
	}
	return same && n == len(have), nil
}

// maxIndexBlobs bounds the blobs of a whole index held in memory (about 180 bytes each
// in Index today).
const maxIndexBlobs = 4_000_000

// indexBudget bounds the stored index files held at once while loading.
const indexBudget = 96 << 20

func (r *Repository) loadIndex(ctx context.Context) error {
	type file struct {
		id   ID
		size int64
	}
	var files []file
	err := r.st.List(ctx, IndexFile, func(name string, size int64) error {
		id, err := ParseID(name)
		if err == nil {
			files = append(files, file{id, size})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing index files: %w", err)
	}
	idx := NewIndex()
	var stored int64
	for _, f := range files {
		stored += max(f.size, 0)
	}
	if r.idxForBackup.Load() && stored >= compactIndexBytes {
		// on the heap: off it, a no-change incremental's small heap made the
		// collector run several times as often (see Index)
		idx.known = newKnownSet()
		idx.known.heap = true
	}
	var total atomic.Int64
	budget := newByteBudget(indexBudget)
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	// the first error stops the other readers
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for i, f := range files {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		size := min(max(f.size, 0), maxIndexFile)
		budget.acquire(size)
		go func() {
			defer func() { budget.release(size); <-sem; wg.Done() }()
			err := r.readIndexFile(ctx, f.id, f.size, func(batch []PackedBlob) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				if total.Add(int64(len(batch))) > maxIndexBlobs {
					return fmt.Errorf("the index lists more than %d blobs, more than travelkit holds in memory: %w", maxIndexBlobs, ErrTooLarge)
				}
				idx.mu.Lock()
				for _, b := range batch {
					idx.addLoaded(b)
				}
				idx.mu.Unlock()
				return nil
			})
			if err != nil {
				errs[i] = fmt.Errorf("index %s: %w", f.id, err)
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	for _, f := range files {
		idx.files = append(idx.files, f.id)
	}
	r.idx = idx
	r.idxLoaded.Store(true)
	return nil
}

// readIndexFile streams one index file into add, in batches.
func (r *Repository) readIndexFile(ctx context.Context, id ID, size int64, add func([]PackedBlob) error) error {
	rd, done, err := r.openUnpackedFile(ctx, IndexFile, id, size)
	if err != nil {
		return err
	}
	defer done()
	batch := make([]PackedBlob, 0, 4096)
	_, err = DecodeIndexStream(&capReader{r: rd, left: maxIndexPlain, what: "the index file"}, func(pb PackedBlob) error {
		batch = append(batch, pb)
		if len(batch) == cap(batch) {
			err := add(batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = add(batch)
	}
	return err
}

// capReader fails, naming what it reads, after left bytes.
type capReader struct {
	r    io.Reader
	left int64
	what string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("%s decompresses to more than %s: %w", c.what, bytesize.Format(maxIndexPlain), ErrTooLarge)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
