package repo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
	"travelkit/internal/killpoint"
	"travelkit/internal/sha256x2"
)

// blobSaver packs blobs into pack files. Data and tree blobs go to separate packs.
type blobSaver struct {
	r *Repository
	// mu guards seen, cur, pending and the statistics
	mu sync.Mutex
	// seen holds the blobs saved in this session whose pack is not in the
	// index yet; a blob leaves it when its pack is uploaded, so it stays small
	seen   map[BlobHandle]struct{}
	cur    [3]*packer
	upload chan *packer
	wg     sync.WaitGroup
	errMu  sync.Mutex
	err    error
	// pending are the blobs of uploaded packs not yet in an index file, as
	// runs of the index's entries (the index file is written from there)
	pending      []entryRun
	pendingBlobs int
	// known, when the saver is compact (a backup's), holds the blobs saved
	// and listed in an index file, as tags (knownSet); the blobs of uploaded
	// packs are in indexes of their own meanwhile: fresh takes the packs
	// uploaded now, live counts the blobs of each such index not yet in an
	// index file (an index leaves it for known once they all are). The
	// repository's index is not added to: Flush marks it to be loaded again.
	known   *knownSet
	fresh   *Index
	live    map[*Index]int
	liveIdx []*Index      // live's keys
	retired int           // blobs moved into known (for tests)
	slots   chan struct{} // data pack buffers in use
	free    chan []byte   // data pack buffers to reuse: no 17 MiB of garbage per pack
	ctx     context.Context
	// stream is the storage when it writes files as they are made: each
	// saving goroutine then writes its own data pack (in its BlobScratch)
	// and no pack is held in memory; open lists those packs for Flush
	stream Streamer
	open   map[*streamPack]struct{}
	// trees (saved by the walkers, without a scratch of their own) go into
	// the streamed packs of these scratches, one walker at a time in each
	trees chan *BlobScratch

	// statistics
	AddedBlobs [3]int
	AddedBytes int64 // plaintext bytes of new blobs
	// PairedBytes and AloneBytes are the bytes of shipped packs whose goroutine hashes
	// plaintext (streamPack.hold): hashed beside a plaintext, or alone
	PairedBytes, AloneBytes int64
	StoredBytes             int64 // bytes written to pack files
}

// StartSaving prepares the repository for adding blobs; call Flush to finish.
// Uploaders hash and store full packs; each holds one pack buffer (one more
// is being filled).
func (r *Repository) StartSaving(ctx context.Context, uploaders int) {
	r.startSaving(ctx, uploaders, false)
}

// startSaving is StartSaving; compact keeps the blobs saved in a knownSet
// once they are in an index file, with no place (a backup never reads them
// again), and leaves the repository's index to be loaded again after Flush.
func (r *Repository) startSaving(ctx context.Context, uploaders int, compact bool) {
	if uploaders < 1 {
		uploaders = 1
	}
	s := &blobSaver{r: r, seen: map[BlobHandle]struct{}{}, upload: make(chan *packer),
		slots: make(chan struct{}, uploaders+1), free: make(chan []byte, uploaders+1), ctx: ctx,
		open: map[*streamPack]struct{}{}}
	if compact {
		s.known = newKnownSet()
		s.live = map[*Index]int{}
		s.rotate()
	} else {
		// the blobs this backup adds are kept off the collected heap
		r.idx.mapNewMem()
	}
	s.stream, _ = r.st.(Streamer)
	if s.stream != nil {
		// a streamed pack is in the storage already: its uploader only makes
		// it durable (fsync) and names it, waiting for the disk, not a core.
		// With one, a saver that finished a pack waited for the fsync of the
		// one before (25 ms on average, up to 0.4 s per 16 MiB pack here)
		uploaders = max(uploaders, streamUploaders)
		s.trees = make(chan *BlobScratch, treePacks(runtime.GOMAXPROCS(0)))
		for range cap(s.trees) {
			s.trees <- &BlobScratch{}
		}
	}
	for i := 0; i < uploaders; i++ {
		s.wg.Add(1)
		go pprof.Do(ctx, pprof.Labels("stage", "upload"), func(context.Context) { s.uploader() })
	}
	r.saver = s
}

// streamUploaders is how many streamed packs are made durable at once.
const streamUploaders = 4

// treePacks is how many tree packs are filled at once with GOMAXPROCS procs:
// one per four. Every tree is compressed, sealed and written by the walker
// that finished its folder, and with one tree pack the walkers wait for each
// other: on 100,000 files in 3,400 folders 4% of a first backup's CPU ran
// under that one lock, and with GOMAXPROCS=8 (on 2 cores) its 16 walkers
// waited 21 s for it during an 18 s backup. Up to 3 cores keep one, as
// before: no more small packs where it does not help.
func treePacks(procs int) int { return max(1, procs/4) }

func (s *blobSaver) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

func (s *blobSaver) getErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *blobSaver) uploader() {
	defer s.wg.Done()
	for p := range s.upload {
		s.uploadOne(p)
		if p.stream == nil && len(p.blobs) > 0 && p.blobs[0].Type == DataBlob {
			select {
			case s.free <- p.buf[:0]:
			default:
			}
			p.buf = nil
			<-s.slots
		}
	}
}

func (s *blobSaver) uploadOne(p *packer) {
	if s.getErr() != nil {
		if p.stream != nil {
			p.stream.f.Abort()
		}
		return
	}
	var id ID
	var size int
	if sp := p.stream; sp != nil {
		id, size = sp.id, sp.off
		if err := sp.f.Commit(s.ctx, Handle{PackFile, id.String()}); err != nil {
			s.setErr(err)
			return
		}
	} else {
		data := p.finish(s.r.key)
		id, size = Hash(data), len(data)
		if err := s.r.st.Save(s.ctx, Handle{PackFile, id.String()}, data); err != nil {
			s.setErr(err)
			return
		}
	}
	killpoint.Here("repo: data saved")
	for i := range p.blobs {
		p.blobs[i].PackID = id
	}
	var run entryRun
	if s.known != nil {
		// added under s.mu: has reads the saver's indexes without their locks
		s.mu.Lock()
		run = s.fresh.addRun(p.blobs)
		s.live[s.fresh] += len(p.blobs)
	} else {
		run = s.r.idx.addRun(p.blobs)
		s.mu.Lock()
	}
	// in the index now: Known finds them there (it looks at seen first)
	for i := range p.blobs {
		delete(s.seen, p.blobs[i].BlobHandle)
	}
	s.pending = append(s.pending, run)
	s.pendingBlobs += run.end - run.first
	s.StoredBytes += int64(size)
	var batch []entryRun
	if s.pendingBlobs >= maxIndexEntries {
		// index files for packs that are all written: a long backup keeps
		// little in memory, and what it saved survives an interruption. Only
		// whole files: the rest waits for the next pack (a pack's run split
		// between two files), so files are not half empty
		full := s.pendingBlobs - s.pendingBlobs%maxIndexEntries
		batch, s.pending = takeRuns(s.pending, full)
		s.pendingBlobs -= full
		if s.known != nil {
			s.rotate()
		}
	}
	s.mu.Unlock()
	if batch != nil {
		var written map[*Index]int
		if s.known != nil {
			written = runBlobs(batch) // before writeRuns, which moves their starts
		}
		if err := s.r.writeRuns(s.ctx, batch); err != nil {
			s.setErr(err)
		} else if written != nil {
			s.retire(written)
		}
	}
}

// rotate starts a new index for the packs uploaded from now on (s.mu held or
// not yet shared).
func (s *blobSaver) rotate() {
	x := NewIndex()
	x.mapNewMem()
	s.fresh = x
	s.live[x] = 0
	s.liveIdx = append(s.liveIdx, x)
}

// runBlobs counts the blobs of runs by index.
func runBlobs(runs []entryRun) map[*Index]int {
	m := map[*Index]int{}
	for _, r := range runs {
		m[r.x] += r.end - r.first
	}
	return m
}

// retire notes that the blobs counted in written are in index files; an index
// all of whose blobs are, and that takes no more packs, moves into known.
func (s *blobSaver) retire(written map[*Index]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for x, n := range written {
		s.live[x] -= n
		if s.live[x] > 0 || x == s.fresh {
			continue
		}
		x.mu.RLock()
		for _, p := range x.pages {
			for i := range p {
				s.known.Add(p[i].handle())
			}
		}
		x.mu.RUnlock()
		delete(s.live, x)
		s.liveIdx = slices.DeleteFunc(s.liveIdx, func(y *Index) bool { return y == x })
		s.retired += x.n
		x.release()
	}
}

// has reports whether a blob is saved or being saved in this session, but
// for the repository's index (s.mu held); part and t are its tag in known.
func (s *blobSaver) has(h BlobHandle, part int, t knownTag) bool {
	if _, ok := s.seen[h]; ok {
		return true
	}
	if s.known == nil {
		return false
	}
	if s.known.n > 0 && s.known.parts[part].has(t) {
		return true
	}
	for _, x := range s.liveIdx {
		// changed only under s.mu (uploadOne, retire)
		if len(x.slots) > 0 {
			if _, ok := x.find(h); ok {
				return true
			}
		}
	}
	return false
}

// tag is h's tag in known, if the saver is compact.
func (s *blobSaver) tag(h BlobHandle) (int, knownTag) {
	if s.known == nil {
		return 0, knownTag{}
	}
	return s.known.tag(h)
}

// done hands back a compact saver's memory after its last index file; the
// repository's index lacks what it saved and is loaded again when next used.
func (s *blobSaver) done() {
	if s.known == nil {
		return
	}
	s.mu.Lock()
	for x := range s.live {
		x.release()
	}
	s.live, s.liveIdx, s.fresh = nil, nil, nil
	s.known.free()
	s.mu.Unlock()
	s.r.idxLoaded.Store(false)
}

// Known reports whether the blob is already stored or being stored.
func (r *Repository) Known(h BlobHandle) bool {
	if s := r.saver; s != nil {
		part, t := s.tag(h)
		s.mu.Lock()
		ok := s.has(h, part, t)
		s.mu.Unlock()
		if ok {
			return true
		}
	}
	return r.idx.Has(h)
}

// BlobScratch holds buffers one goroutine reuses across SaveBlob calls, and
// the data pack it is writing when the storage is a Streamer.
type BlobScratch struct {
	comp   []byte
	sealed []byte // pieces of a blob being encrypted into a streamed pack
	pack   *streamPack
	enc    *zstd.Encoder // compresses blobs straight into a streamed pack
	pend   []byte        // the buffer of pack's pending bytes, between packs
	sum    sha256x2.Digest
	// hashes says that its goroutine hashes the plaintext of the blobs it
	// saves with hash (the archiver's readers): only then do a pack's sealed
	// bytes wait to be hashed beside it (streamPack.hashLater)
	hashes bool
}

// hash returns Hash(b). The pending bytes of sc's pack (see streamPack.pend)
// are hashed beside b, two streams in one pass.
func (sc *BlobScratch) hash(b []byte) ID {
	sp := sc.pack
	if sp == nil || len(sp.pend) == 0 {
		return Hash(b)
	}
	sc.sum.Reset()
	sp.hashBeside(&sc.sum, b)
	var id ID
	sc.sum.Sum(id[:0])
	return id
}

// sealPiece is how much of a blob is encrypted, hashed and written at a time
// into a streamed pack.
const sealPiece = 256 << 10

// keepScratch is the largest buffer a BlobScratch keeps for the next blob:
// most chunks are smaller, and a rare 8 MiB one should not stay resident.
const keepScratch = 2 << 20

// scratchCap is the capacity to give a buffer of capacity c that must now hold n bytes:
// at least twice c, up to limit, so that a buffer kept for the next blob grows to the
// largest it keeps in a few steps instead of one allocation for every larger blob.
func scratchCap(c, n, limit int) int { return max(n, min(2*c, limit)) }

// streamPack is a data pack written to the storage blob by blob, hashed as it
// is written.
type streamPack struct {
	f    TempFile
	h    *sha256x2.Digest // the pack's SHA-256, of all bytes written but pend
	pend []byte           // bytes written, not yet hashed (see hashLater)
	hold bool             // written bytes wait in pend
	// the open mark (markHash): markAt of the pending bytes come before it; markState
	// is the hash's state at the mark, saved only once the hash takes a byte after it
	marked, pinned bool
	markAt         int
	markState      []byte
	markErr        error
	// bytes hashed beside a plaintext, or alone (counted, for the statistics)
	paired, alone int
	blobs         []PackedBlob
	off           int // bytes written
	hdr           int // encrypted header size with the blobs so far
	id            ID  // once finished
}

// SaveBlob stores plaintext data as a blob with the given ID (the SHA-256 of
// data) unless it is already known. It returns whether it was stored now.
// Safe for concurrent use; sc is optional.
func (r *Repository) SaveBlob(t BlobType, id ID, data []byte, sc *BlobScratch) (bool, error) {
	s := r.saver
	if s == nil {
		return false, errors.New("SaveBlob outside StartSaving/Flush")
	}
	if err := s.getErr(); err != nil {
		return false, err
	}
	h := BlobHandle{ID: id, Type: t}
	part, tg := s.tag(h)
	s.mu.Lock()
	if s.has(h, part, tg) || r.idx.Has(h) {
		s.mu.Unlock()
		return false, nil
	}
	s.seen[h] = struct{}{}
	s.mu.Unlock()

	streamed := sc != nil && t == DataBlob && s.stream != nil
	tree := sc == nil && t == TreeBlob && s.stream != nil
	if streamed {
		return true, s.saveStreamed(h, data, sc)
	}
	if tree {
		tsc := <-s.trees
		defer func() { s.trees <- tsc }()
		return true, s.saveStreamed(h, data, tsc)
	}
	if sc == nil {
		sc = &BlobScratch{}
	}
	c, ok := r.compressBlob(data, sc.comp)
	if c != nil && cap(c) <= keepScratch {
		sc.comp = c[:0]
	}
	ulen := 0
	plain := data
	if ok {
		plain = c
		ulen = len(data)
	}
	sealedLen := len(plain) + Overhead
	fits := func(p *packer) bool {
		return len(p.blobs) == 0 || p.size()+sealedLen+compressedEntrySize <= cap(p.buf)
	}

	// A new data pack needs a buffer slot (one filling, the others being
	// uploaded), which bounds memory; the slot is taken without the lock.
	var ship []*packer
	slot := false
	s.mu.Lock()
	for t == DataBlob && !slot {
		p := s.cur[t]
		if p != nil && fits(p) {
			break
		}
		s.mu.Unlock()
		select {
		case s.slots <- struct{}{}:
			slot = true
		case <-s.ctx.Done():
			return false, s.ctx.Err()
		}
		s.mu.Lock()
	}
	p := s.cur[t]
	if p != nil && !fits(p) {
		// ship the pack before it would have to grow
		p.full = true
		s.cur[t] = nil
		if p.writers == 0 {
			ship = append(ship, p)
		}
		p = nil
	}
	if p == nil {
		var b []byte
		if t == DataBlob {
			select {
			case b = <-s.free:
			default:
				b = make([]byte, 0, r.PackSize+r.PackSize/16)
			}
			slot = false // the new pack owns it until uploaded
		} else {
			b = make([]byte, 0, r.PackSize/4)
		}
		if cap(b) < sealedLen {
			b = make([]byte, 0, sealedLen)
		}
		p = &packer{buf: b}
		s.cur[t] = p
	}
	if slot {
		<-s.slots // another saver made the pack meanwhile
	}
	off := p.reserve(h, sealedLen, ulen)
	dst := p.buf[off : off+sealedLen] // taken under the lock: p.buf changes as others reserve
	p.writers++
	s.AddedBlobs[t]++
	s.AddedBytes += int64(len(data))
	if p.size() >= r.PackSize {
		p.full = true
		s.cur[t] = nil
	}
	s.mu.Unlock()

	// encryption, like compression, runs unlocked, into the reserved space
	r.key.sealInto(dst, plain)

	s.mu.Lock()
	p.writers--
	if p.full && p.writers == 0 {
		ship = append(ship, p)
	}
	s.mu.Unlock()
	for _, q := range ship {
		s.upload <- q
	}
	return true, s.getErr()
}

// saveStreamed compresses (when it pays) and seals a blob into the data pack of
// sc, starting one when sc has none; a full pack is finished and handed to an
// uploader, which makes it durable under its name. When the temporary file can
// rewind, the blob is compressed straight into the pack (no compressed copy in
// memory); if it does not shrink, the pack is rewound to where the blob began
// and the blob is stored as it is.
func (s *blobSaver) saveStreamed(h BlobHandle, data []byte, sc *BlobScratch) error {
	r := s.r
	sp, err := s.packOf(sc)
	if err != nil {
		return err
	}
	start := sp.off
	plain, ulen, sealed := data, 0, false
	if r.worthCompressing(data, sc.sampleSize) {
		if rw, ok := sp.f.(Rewinder); ok {
			done, err := s.compressInto(sp, rw, data, sc)
			if err != nil {
				s.setErr(err)
				return err
			}
			if done {
				ulen, sealed = len(data), true
			}
		} else {
			c := r.encoder().EncodeAll(data, sc.comp[:0])
			if cap(c) <= keepScratch {
				sc.comp = c[:0]
			}
			if shrinks(len(c), len(data)) {
				plain, ulen = c, len(data)
			}
		}
	}
	if !sealed {
		if err := r.key.sealStream(plain, sc.sealed, sp.write); err != nil {
			s.setErr(err)
			return err
		}
	}
	return s.addStreamed(sc, h, start, ulen, len(data))
}

// packOf returns sc's streamed data pack, starting one when it has none.
func (s *blobSaver) packOf(sc *BlobScratch) (*streamPack, error) {
	sp := sc.pack
	if sp == nil {
		f, err := s.stream.CreateTemp(s.ctx, PackFile)
		if err != nil {
			s.setErr(err)
			return nil, err
		}
		if rs, ok := f.(Reserver); ok {
			// a pack is finished once it reaches PackSize
			rs.Reserve(int64(s.r.PackSize))
		}
		sp = &streamPack{f: f, h: sha256x2.New(), pend: sc.pend[:0], hold: sc.hashes && sha256x2.TwoLanes(), hdr: Overhead + 4}
		sc.pend = nil
		sc.pack = sp
		s.mu.Lock()
		s.open[sp] = struct{}{}
		s.mu.Unlock()
	}
	if sc.sealed == nil {
		sc.sealed = make([]byte, sealPiece)
	}
	return sp, nil
}

// addStreamed enters the blob h just written into sc's pack from start (ulen:
// its uncompressed length, 0 when stored as it is; size: its plaintext
// length) and ships the pack when it is full.
func (s *blobSaver) addStreamed(sc *BlobScratch, h BlobHandle, start, ulen, size int) error {
	sp := sc.pack
	n := sp.off - start
	sp.blobs = append(sp.blobs, PackedBlob{BlobHandle: h, Offset: uint32(start),
		Length: uint32(n), UncompressedLength: uint32(ulen)})
	sp.hdr += entrySize(uint32(ulen))
	s.mu.Lock()
	s.AddedBlobs[h.Type]++
	s.AddedBytes += int64(size)
	full := sp.off+sp.hdr >= s.r.PackSize
	if full {
		delete(s.open, sp)
	}
	s.mu.Unlock()
	if full {
		sc.pack = nil
		err := s.shipStreamed(sp)
		sc.pend, sp.pend = sp.pend[:0], nil
		return err
	}
	return s.getErr()
}

// longBlob is a data blob written into a streamed pack piece by piece while
// its chunk is still being cut (startLong): its ID is known only at its end.
// When it turns out to be stored already, the pack is rewound to where it
// began. A reader that would otherwise wait for the big buffer (a chunk of
// more than 2 MiB while the other reader's long chunk is in it) streams its
// chunk this way with no buffer of the chunk's size at all.
type longBlob struct {
	s     *blobSaver
	sc    *BlobScratch
	sp    *streamPack
	rw    Rewinder
	start int
	sum   *sha256x2.Digest // SHA-256 of the plaintext: the blob's ID
	w     *sealWriter
	enc   *zstd.Encoder // nil: the blob is stored as it is
	n     int           // plaintext bytes written
}

// startLong starts a data blob whose first bytes are first in sc's streamed
// pack; whether it is compressed is decided on them. It returns nil and no
// error when the storage cannot rewind a pack: the chunk must then be saved
// whole (SaveBlob).
func (r *Repository) startLong(first []byte, sc *BlobScratch) (*longBlob, error) {
	s := r.saver
	if s == nil || s.stream == nil {
		return nil, nil
	}
	if err := s.getErr(); err != nil {
		return nil, err
	}
	sp, err := s.packOf(sc)
	if err != nil {
		return nil, err
	}
	rw, ok := sp.f.(Rewinder)
	if !ok {
		return nil, nil
	}
	sp.markHash()
	start := sp.off
	w, err := r.key.sealStart(sc.sealed, sp.write)
	if err != nil {
		s.setErr(err)
		return nil, err
	}
	b := &longBlob{s: s, sc: sc, sp: sp, rw: rw, start: start, sum: sha256x2.New(), w: w}
	if r.worthCompressing(first, sc.sampleSize) {
		// a frame without its content size: it is not known yet
		b.enc = sc.encoder()
		b.enc.Reset(w)
	}
	return b, b.write(first)
}

// write adds p to the blob.
func (b *longBlob) write(p []byte) error {
	b.sp.hashBeside(b.sum, p)
	b.n += len(p)
	var err error
	if b.enc != nil {
		_, err = b.enc.Write(p)
	} else {
		_, err = b.w.Write(p)
	}
	if err != nil {
		b.s.setErr(err)
	}
	return err
}

// finish ends the blob and returns its ID; stored is false when the blob was
// stored already (this backup or before), and the pack was rewound.
func (b *longBlob) finish() (id ID, stored bool, err error) {
	b.sum.Sum(id[:0])
	h := BlobHandle{ID: id, Type: DataBlob}
	s := b.s
	if err := s.getErr(); err != nil {
		return id, false, err
	}
	part, tg := s.tag(h)
	s.mu.Lock()
	dup := s.has(h, part, tg) || s.r.idx.Has(h)
	if !dup {
		s.seen[h] = struct{}{}
	}
	s.mu.Unlock()
	if dup {
		return id, false, b.abort()
	}
	ulen := 0
	if b.enc != nil {
		if err := b.enc.Close(); err != nil {
			s.setErr(err)
			return id, false, err
		}
		ulen = b.n
	}
	if err := b.w.finish(); err != nil {
		s.setErr(err)
		return id, false, err
	}
	b.sp.marked = false
	return id, true, s.addStreamed(b.sc, h, b.start, ulen, b.n)
}

// abort rewinds the pack (file, hash and offset) to where the blob began.
func (b *longBlob) abort() error {
	if err := b.rw.Rewind(int64(b.start)); err != nil {
		b.s.setErr(err)
		return err
	}
	if err := b.sp.rewindHash(); err != nil {
		b.s.setErr(err)
		return err
	}
	b.sp.off = b.start
	return nil
}

// compressInto compresses and seals data straight into the pack. It reports
// false, with the pack (file, hash and offset) back where the blob began, when
// the compressed blob would not be smaller than the rule of compressBlob.
func (s *blobSaver) compressInto(sp *streamPack, rw Rewinder, data []byte, sc *BlobScratch) (bool, error) {
	start := sp.off
	sp.markHash()
	w, err := s.r.key.sealStart(sc.sealed, sp.write)
	if err != nil {
		return false, err
	}
	w.limit = len(data) - len(data)/64 - 1 // shrinks(w.n, len(data)) while within it
	enc := sc.encoder()
	enc.ResetContentSize(w, int64(len(data)))
	if _, err = enc.Write(data); err == nil {
		err = enc.Close()
	}
	if err == nil {
		sp.marked = false
		return true, w.finish()
	}
	if !errors.Is(err, errSealLimit) {
		return false, err
	}
	if err := rw.Rewind(int64(start)); err != nil {
		return false, err
	}
	if err := sp.rewindHash(); err != nil {
		return false, err
	}
	sp.off = start
	return false, nil
}

// sampleSize compresses a sample with the goroutine's own encoder (no
// encoders of the shared pool are made for it) and returns its size.
func (sc *BlobScratch) sampleSize(sample []byte) int {
	var n countWriter
	enc := sc.encoder()
	enc.Reset(&n)
	if _, err := enc.Write(sample); err != nil {
		return len(sample)
	}
	if err := enc.Close(); err != nil {
		return len(sample)
	}
	return int(n)
}

// countWriter counts what is written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// encoder is the streaming zstd encoder of one saving goroutine, with the
// settings of Repository.encoder.
func (sc *BlobScratch) encoder() *zstd.Encoder {
	if sc.enc == nil {
		var err error
		sc.enc, err = zstd.NewWriter(nil, zstdOptions(zstd.WithEncoderConcurrency(1))...)
		if err != nil {
			panic(err)
		}
	}
	return sc.enc
}

func (sp *streamPack) write(b []byte) error {
	if _, err := sp.f.Write(b); err != nil {
		return err
	}
	sp.hashLater(b)
	sp.off += len(b)
	return nil
}

// pendMax bounds a pack's pending bytes: about the sealed size of one chunk.
const pendMax = keepScratch

// hashLater hashes b, just written to the pack, or keeps it pending: a backup
// hashes each blob's plaintext (its ID, needed before the blob is sealed) in
// the goroutine that then seals it into the pack, so a blob's sealed bytes
// wait to be hashed beside the next blob's plaintext (hashBeside), the two
// SHA-256 streams in one pass. Where that does not run faster (no SHA-NI), or
// in a pack of a goroutine that does not hash plaintext (the savers', the
// trees'), nothing waits.
func (sp *streamPack) hashLater(b []byte) {
	if !sp.hold {
		sp.pinMark()
		sp.h.Write(b)
		return
	}
	if len(sp.pend)+len(b) > pendMax {
		sp.flushHash()
		if len(b) > pendMax {
			sp.alone += len(b)
			sp.h.Write(b)
			return
		}
	}
	if sp.pend == nil {
		// made once per reader (it passes from pack to pack, BlobScratch.pend):
		// appends within pendMax never move it
		sp.pend = make([]byte, 0, pendMax)
	}
	sp.pend = append(sp.pend, b...)
}

// pinMark saves the hash's state at the open mark, before the hash takes a byte
// written after it; the pending bytes before the mark are hashed (alone) first.
func (sp *streamPack) pinMark() {
	if !sp.marked || sp.pinned {
		return
	}
	if k := sp.markAt; k > 0 {
		sp.h.Write(sp.pend[:k])
		sp.alone += k
		sp.pend = sp.pend[:copy(sp.pend, sp.pend[k:])]
		sp.markAt = 0
	}
	sp.markState, sp.markErr = sp.h.MarshalBinary()
	sp.pinned = true
}

// flushHash hashes the pending bytes alone.
func (sp *streamPack) flushHash() {
	sp.pinMark()
	sp.h.Write(sp.pend)
	sp.alone += len(sp.pend)
	sp.pend = sp.pend[:0]
}

// hashBeside writes p to d and, in the same pass, hashes up to len(p) of the
// pack's pending bytes (the oldest first); the rest stays pending.
func (sp *streamPack) hashBeside(d *sha256x2.Digest, p []byte) {
	m := min(len(sp.pend), len(p))
	if m == 0 {
		d.Write(p)
		return
	}
	if sp.marked && !sp.pinned {
		if k := sp.markAt; m > k {
			// the hash goes past the mark: its state there is kept
			if k > 0 {
				sha256x2.Write2(d, sp.h, p[:k], sp.pend[:k])
			}
			sp.markAt = 0
			sp.pinMark()
			sha256x2.Write2(d, sp.h, p[k:], sp.pend[k:m])
		} else {
			sp.markAt -= m
			sha256x2.Write2(d, sp.h, p, sp.pend[:m])
		}
	} else {
		sha256x2.Write2(d, sp.h, p, sp.pend[:m])
	}
	sp.paired += m
	sp.pend = sp.pend[:copy(sp.pend, sp.pend[m:])]
}

// markHash marks the pack's current end, for rewindHash. The mark is lazy: the
// bytes pending before it stay pending (to be hashed beside the next plaintext);
// the hash's state is saved only when the hash goes past the mark (pinMark).
func (sp *streamPack) markHash() {
	sp.marked, sp.pinned, sp.markAt = true, false, len(sp.pend)
}

// rewindHash sets the pack's hash back to the mark of markHash: the bytes
// written since are dropped, as the file is rewound, and the mark is closed.
func (sp *streamPack) rewindHash() error {
	if !sp.marked {
		return errors.New("repo: a pack's hash rewound without a mark")
	}
	sp.marked = false
	if !sp.pinned {
		// the hash never went past the mark: what was pending before it still is
		sp.pend = sp.pend[:sp.markAt]
		return nil
	}
	sp.pend = sp.pend[:0]
	if sp.markErr != nil {
		return sp.markErr
	}
	return sp.h.UnmarshalBinary(sp.markState)
}

// shipStreamed writes the pack's header and hands it to an uploader.
func (s *blobSaver) shipStreamed(sp *streamPack) error {
	hdr := s.r.key.Seal(nil, packHeader(sp.blobs))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(hdr)))
	if err := sp.write(hdr); err != nil {
		sp.f.Abort()
		s.setErr(err)
		return err
	}
	sp.flushHash()
	copy(sp.id[:], sp.h.Sum(nil))
	if sp.hold {
		s.mu.Lock()
		s.PairedBytes += int64(sp.paired)
		s.AloneBytes += int64(sp.alone)
		s.mu.Unlock()
	}
	select {
	case s.upload <- &packer{blobs: sp.blobs, stream: sp}:
	case <-s.ctx.Done():
		sp.f.Abort()
		return s.ctx.Err()
	}
	return s.getErr()
}

// Flush writes the open packs and then an index file for everything saved
// since StartSaving. After Flush the repository stops accepting blobs.
func (r *Repository) Flush(ctx context.Context) error {
	s := r.saver
	if s == nil {
		return nil
	}
	// every SaveBlob has returned: the streamed packs are complete
	s.mu.Lock()
	open := s.open
	s.open = map[*streamPack]struct{}{}
	s.mu.Unlock()
	for sp := range open {
		if s.getErr() != nil || len(sp.blobs) == 0 {
			// a pack whose only blob was found stored already and rewound
			// (longBlob) holds nothing
			sp.f.Abort()
			continue
		}
		s.shipStreamed(sp)
	}
	s.mu.Lock()
	for t := range s.cur {
		if p := s.cur[t]; p != nil && len(p.blobs) > 0 {
			// every SaveBlob has returned: no writers are left
			s.cur[t] = nil
			s.mu.Unlock()
			s.upload <- p
			s.mu.Lock()
		}
	}
	s.mu.Unlock()
	close(s.upload)
	s.wg.Wait()
	r.saver = nil
	r.lastSaver = s
	err := s.getErr()
	if err == nil {
		err = r.writeRuns(ctx, s.pending)
	}
	s.done()
	return err
}

// Abort stops saving without writing an index; packs already written stay
// as unreferenced files that prune removes.
func (r *Repository) Abort() {
	s := r.saver
	if s == nil {
		return
	}
	s.setErr(errors.New("aborted"))
	s.mu.Lock()
	for sp := range s.open {
		sp.f.Abort()
	}
	s.open = nil
	s.mu.Unlock()
	close(s.upload)
	s.wg.Wait()
	r.saver = nil
	s.done()
}

// SaverStats returns blobs and bytes added so far.
func (r *Repository) SaverStats() (dataBlobs, treeBlobs int, added, stored int64) {
	return r.saverStats()
}

func (r *Repository) saverStats() (dataBlobs, treeBlobs int, added, stored int64) {
	s := r.saver
	if s == nil {
		s = r.lastSaver
	}
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.AddedBlobs[DataBlob], s.AddedBlobs[TreeBlob], s.AddedBytes, s.StoredBytes
}

// takeRuns splits runs after their first n blobs (n > 0), splitting a run
// when it must; runs is not changed.
func takeRuns(runs []entryRun, n int) (head, tail []entryRun) {
	for i, r := range runs {
		k := r.end - r.first
		if k < n {
			n -= k
			continue
		}
		head = append(runs[:i:i], entryRun{x: r.x, first: r.first, end: r.first + n})
		if k > n {
			tail = append(tail, entryRun{x: r.x, first: r.first + n, end: r.end})
		}
		return head, append(tail, runs[i+1:]...)
	}
	return runs, nil
}

// maxIndexEntries is the most blobs written into one index file. A quarter of
// restic's 50,000: an index file is made whole in memory (its JSON, at most 161
// bytes a blob, then its compressed copy), and at 50,000 blobs those 8 + 4 MB
// were the peak of a first backup of 300,000 small files; at 12,500 they are
// 2 + 1 MB. restic reads index files of any number of blobs; a million blobs
// are 80 index files instead of 20.
var maxIndexEntries = 12500 // a variable for tests

func (r *Repository) writeIndex(ctx context.Context, blobs []PackedBlob) error {
	for len(blobs) > 0 {
		n := min(len(blobs), maxIndexEntries)
		b, err := appendIndexJSON(nil, blobs[:n])
		if err != nil {
			return err
		}
		if err := r.saveIndexFile(ctx, b); err != nil {
			return err
		}
		blobs = blobs[n:]
	}
	return nil
}

// LoadBlob reads, checks and returns the plaintext of a blob, appended to buf[:0].
func (r *Repository) LoadBlob(ctx context.Context, t BlobType, id ID, buf []byte) ([]byte, error) {
	return r.LoadBlobScratch(ctx, t, id, buf, nil)
}

// LoadBlobScratch is LoadBlob with a reusable buffer for the stored bytes,
// used when the storage is a RangeReader.
func (r *Repository) LoadBlobScratch(ctx context.Context, t BlobType, id ID, buf []byte, raw *[]byte) ([]byte, error) {
	if err := r.ensureIndex(ctx); err != nil {
		return nil, err
	}
	pb, ok := r.idx.Lookup(BlobHandle{ID: id, Type: t})
	if !ok {
		return nil, fmt.Errorf("%s blob %s not found in index", t, id.Str())
	}
	return r.loadPackedScratch(ctx, pb, buf, raw)
}

func (r *Repository) loadPacked(ctx context.Context, pb PackedBlob, buf []byte) ([]byte, error) {
	return r.loadPackedScratch(ctx, pb, buf, nil)
}

func (r *Repository) loadPackedScratch(ctx context.Context, pb PackedBlob, buf []byte, scratch *[]byte) ([]byte, error) {
	if err := blobTooLarge(pb); err != nil {
		return nil, err
	}
	h := Handle{PackFile, pb.PackID.String()}
	var raw []byte
	var err error
	if rr, ok := r.st.(RangeReader); ok && scratch != nil {
		if cap(*scratch) < int(pb.Length) {
			*scratch = make([]byte, pb.Length, scratchCap(cap(*scratch), int(pb.Length), keepScratch))
		}
		raw = (*scratch)[:pb.Length]
		err = rr.ReadAt(ctx, h, raw, int64(pb.Offset))
	} else {
		raw, err = r.st.Load(ctx, h, int64(pb.Offset), int(pb.Length))
	}
	if err != nil {
		return nil, fmt.Errorf("%s blob %s in pack %s: %w", pb.Type, pb.ID.Str(), pb.PackID.Str(), err)
	}
	return r.openBlob(pb, raw, buf)
}

// blobTooLarge refuses a blob longer, stored or as plaintext, than travelkit reads.
func blobTooLarge(pb PackedBlob) error {
	if pb.Length > maxStoredBlob(pb.Type) || int(pb.PlainLength()) > maxBlob(pb.Type) {
		return &PackError{Pack: pb.PackID, Err: tooLarge(fmt.Sprintf("%s blob %s", pb.Type, pb.ID.Str()),
			max(int64(pb.Length), int64(pb.PlainLength())), int64(maxBlob(pb.Type)))}
	}
	return nil
}

// readPackRange reads n bytes of pack id at off: into *scratch (grown as needed) where the
// storage reads into the caller's buffer, else as the storage's Load returns them.
func (r *Repository) readPackRange(ctx context.Context, id ID, off int64, n int, scratch *[]byte) ([]byte, error) {
	h := Handle{PackFile, id.String()}
	if rr, ok := r.st.(RangeReader); ok {
		if cap(*scratch) < n {
			*scratch = make([]byte, n, scratchCap(cap(*scratch), n, keepScratch))
		}
		b := (*scratch)[:n]
		if err := rr.ReadAt(ctx, h, b, off); err != nil {
			return nil, err
		}
		return b, nil
	}
	return r.st.Load(ctx, h, off, n)
}

// zstdSlack is the room a decompression gets past a blob's declared length: the
// decoder's fast copies write up to 32 bytes (klauspost/compress's
// compressedBlockOverAlloc) beyond what a block produces.
const zstdSlack = 32

// openBlob decrypts, decompresses and verifies one stored blob, decrypting raw in
// place. Decompression writes into buf (or a new buffer) of exactly the declared
// length and stops when the blob wants more; an uncompressed blob's plaintext is
// returned inside raw, so a caller that keeps the result for the next call as buf
// must not when it lies in raw (sameArray).
func (r *Repository) openBlob(pb PackedBlob, raw, buf []byte) ([]byte, error) {
	plain, opened, scratch, err := r.decodeBlob(pb, raw, buf, true)
	if err != nil && opened {
		// internal/aesctr's keystream decrypted it: should that be wrong (a bug
		// costs time, never data), XOR it out again and, when the MAC proves raw to
		// be the stored ciphertext again, decrypt with crypto/aes
		if !r.key.unFast(raw) {
			return nil, blobError(pb, fmt.Errorf("%w (and its ciphertext could not be restored to decrypt it again)", err))
		}
		// the output buffer the first try made (sized by the declared length) serves
		// again: a damaged blob costs its declared length once, not twice
		if cap(scratch) > cap(buf) {
			buf = scratch
		}
		plain, _, _, err = r.decodeBlob(pb, raw, buf, false)
	}
	if err != nil {
		return nil, blobError(pb, err)
	}
	return plain, nil
}

// decodeBlob is openBlob's work, decrypting with Key.openFast when fast is true; opened
// says that the MAC matched and raw was decrypted in place; scratch is the output buffer
// it used (buf, or one it made), for another try.
func (r *Repository) decodeBlob(pb PackedBlob, raw, buf []byte, fast bool) (_ []byte, opened bool, scratch []byte, _ error) {
	open := func() ([]byte, error) {
		var p []byte
		var err error
		if fast {
			p, err = r.key.openFast(raw)
		} else {
			p, err = r.key.Open(raw[ivSize:ivSize], raw)
		}
		opened = fast && err == nil
		return p, err
	}
	var plain []byte
	var err error
	switch ulen := int(pb.UncompressedLength); {
	case len(raw) != int(pb.Length):
		err = errors.New("short read")
	case int(pb.PlainLength()) > maxBlob(pb.Type):
		err = tooLarge("the blob", int64(pb.PlainLength()), int64(maxBlob(pb.Type)))
	case ulen != 0:
		// decrypt in place: raw is ours (a fresh load or the caller's scratch)
		plain, err = open()
		if err == nil {
			// zstdSlack bytes beyond the declared length let the decoder copy
			// matches in whole words up to the blob's last block (with none, its
			// last block takes the byte-wise copies); a blob that fills them
			// decompresses to more than it declares and is refused as before
			dst := buf[:0]
			if cap(dst) < ulen+zstdSlack {
				dst = make([]byte, 0, scratchCap(cap(dst), ulen+zstdSlack, keepScratch+zstdSlack))
			}
			scratch = dst
			var out []byte
			out, err = r.decoder().DecodeAll(plain, dst[:0:ulen+zstdSlack])
			switch {
			case errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrFrameSizeExceeded) ||
				err == nil && len(out) > ulen:
				err = fmt.Errorf("%w (%d bytes)", errDeclared, ulen)
			case err == nil && len(out) != ulen:
				err = errors.New("wrong uncompressed length")
			}
			if err == nil {
				// hand back the caller's whole buffer for the next blob (out lies in it)
				if len(out) > 0 && &out[0] != &dst[:1][0] {
					copy(dst[:len(out)], out)
				}
				plain = dst[:len(out)]
			}
		}
	default:
		// in place too: the plaintext lies in raw, and buf is not used
		plain, err = open()
	}
	if err == nil && Hash(plain) != pb.ID {
		err = errContentID
	}
	if err != nil {
		return nil, opened, scratch, err
	}
	return plain, opened, scratch, nil
}

// errContentID says a blob's plaintext does not hash to its ID.
var errContentID = errors.New("content does not match its ID")

// blobError names the pack and the blob err is about.
func blobError(pb PackedBlob, err error) error {
	return &PackError{Pack: pb.PackID, Err: fmt.Errorf("%s blob %s: %w", pb.Type, pb.ID.Str(), err)}
}
