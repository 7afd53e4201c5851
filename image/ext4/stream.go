package ext4

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"travelkit/internal/killpoint"
)

// Stream is a regular file written front to back as it is made, under a temporary
// name, and given its final name by Commit (a backup writes a pack before it knows
// the pack's name, the hash of its content).
//
// On the device, at every moment, the temporary file owns every block it has been
// given: blocks are taken in steps of streamStep, marked in the bitmaps and flushed
// before the inode points at them, and the inode (its size covering all of them) is
// rewritten at each step. A crash therefore leaves a temporary file whose removal
// gives everything back: no leaked blocks. Data reaches the device in whole blocks
// of up to streamBuf bytes (the LUKS volume below encrypts them without a
// read-modify-write of a partial sector).
//
// A Stream is not safe for concurrent use, and like every write call it must not
// run concurrently with other calls on the FS, unless it was given a lock by Share:
// then its Write and Rewind run beside other goroutines' calls, taking the lock
// only to allocate blocks, and the data (encrypted by the LUKS volume below on the
// writing goroutine) goes to the device outside it.
type Stream struct {
	f        *FS
	dir      string // folder of the temporary name
	name     string // temporary name
	n        *inode
	exts     []extent // allocated blocks, in logical order
	alloc    uint64   // blocks allocated
	size     int64    // bytes on the device (whole blocks until the end)
	buf      []byte
	freeNext []uint64 // extent tree blocks the inode no longer points at, freed after the next flush
	done     bool
	err      error
	mu       sync.Locker // held by Write and Rewind around changes to the FS; nil: the caller serialises

	// rmu lets another call on the FS take back the blocks this Stream was given
	// and has not written (reclaim), while its Write runs without mu: alloc and
	// exts change only under both mu and rmu, and are read under either.
	rmu sync.Mutex
	// claim is how many blocks (from the start) Write has written or is writing:
	// reclaim never takes them. Under rmu.
	claim uint64
}

// Share lets Write and Rewind run while other goroutines use the FS: every other
// call on the FS, and this Stream's Commit and Abort, must then be made holding mu
// (Write takes mu only while it allocates blocks).
func (s *Stream) Share(mu sync.Locker) { s.mu = mu }

func (s *Stream) lock() {
	if s.mu != nil {
		s.mu.Lock()
	}
}

func (s *Stream) unlock() {
	if s.mu != nil {
		s.mu.Unlock()
	}
}

// inPlaceWriter is a device that can encrypt a buffer in place while writing it
// (luks.Volume): a Stream's buffer is not needed after its write, so the copy and
// the volume's encryption buffers are saved.
type inPlaceWriter interface {
	WriteAtInPlace(p []byte, off int64) (int, error)
}

// streamStep is how many bytes a Stream allocates at a time; a pack of 16-24 MiB
// takes one step (one extent when free space is not fragmented), so a pack costs
// one flush for its blocks; Commit gives back what it did not use.
const streamStep = 24 << 20

// streamBuf is the most a Stream holds before writing it (whole blocks).
const streamBuf = 256 << 10

// CreateStream creates the empty regular file p (FileMode, owned by root), creating
// parent folders, and returns it for writing. p must not exist. The file's inode, and
// the bitmaps of the first step of blocks it is given, are durable (one flush) before
// its name and its pointers to those blocks are written.
func (f *FS) CreateStream(p string) (*Stream, error) {
	if err := f.begin(); err != nil {
		return nil, err
	}
	dirPath, name, err := splitFilePath(p)
	if err != nil {
		return nil, err
	}
	dir, err := f.mkdirAll(dirPath)
	if err != nil {
		return nil, err
	}
	ino, err := f.lookupIn(dir, name)
	if err == nil && ino != 0 && f.laterName(dirPath, name) {
		// a committed Stream's temporary name, not removed yet: remove it now
		if err = f.flush(); err == nil {
			f.removeLaterNames()
			if dir, err = f.lookup(dirPath); err == nil {
				ino, err = f.lookupIn(dir, name)
			}
		}
	}
	if err != nil {
		return nil, err
	} else if ino != 0 {
		return nil, &fs.PathError{Op: "create", Path: p, Err: fs.ErrExist}
	}
	ino, err = f.allocInode(false, (dir.ino-1)/f.ipg)
	if err != nil {
		return nil, err
	}
	n := f.newInode(ino, modeReg|FileMode, f.now())
	put16(n.b, iLinks, 1)
	st := &Stream{f: f, dir: dirPath, name: name, n: n}
	// The first step of blocks is taken now, so that one flush serves both orders:
	// the inode (still empty) before its name, and the blocks' bitmaps before the
	// inode points at them. Without room for a step (or when the step would need an
	// extent tree), the first Write takes what it needs.
	step := uint64(streamStep / f.bs)
	got, aerr := f.allocBlocks(step, f.groupStart(f.lastGroup))
	if aerr == nil && len(got) > 4 {
		f.freeExtents(got)
		got = nil
	} else if aerr != nil {
		got = nil
	}
	err = f.writeMeta()
	if err == nil {
		err = f.writeInode(n)
	}
	if err == nil {
		err = f.flush()
	}
	if err == nil && got != nil {
		// bitmaps durable: the inode may point at the step now (durable by the
		// next flush; a power cut before leaves the step's blocks marked used and
		// unowned, as a cut between grow's flush and the next one does)
		err = st.own(got, step)
	}
	if err == nil {
		err = f.addEntry(dir, name, ino, ftReg)
	}
	if err != nil {
		// the entry is written last, as one block: it is there or not
		if lk, e := f.lookupIn(dir, name); e == nil && lk == 0 {
			f.freeInode(ino, false)
			f.freeExtents(got)
			_ = f.writeMeta()
		}
		return nil, err
	}
	if err := f.writeMeta(); err != nil {
		return nil, err
	}
	if f.streams == nil {
		f.streams = map[*Stream]struct{}{}
	}
	f.streams[st] = struct{}{}
	if got != nil {
		killpoint.Here("ext4: stream grown")
	}
	return st, nil
}

// own makes the empty inode of a new Stream point at got (step blocks, their bitmaps
// durable already).
func (s *Stream) own(got []extent, step uint64) error {
	f := s.f
	exts := append([]extent(nil), got...)
	var lb uint32
	for i := range exts {
		exts[i].lblk = lb
		lb += exts[i].len
	}
	n := &inode{ino: s.n.ino, b: append([]byte(nil), s.n.b...)}
	n.setSize(int64(step) * f.bs)
	if err := f.setExtents(n, exts, step); err != nil {
		return err
	}
	if err := f.writeInode(n); err != nil {
		return err
	}
	last := exts[len(exts)-1]
	f.lastGroup = uint32((last.pblk + uint64(last.len) - 1 - f.firstData) / uint64(f.bpg))
	s.n, s.exts, s.alloc = n, exts, step
	return nil
}

// freeInode clears ino in its group's inode bitmap (a file whose inode is no longer
// reachable).
func (f *FS) freeInode(ino uint32, dir bool) {
	g := (ino - 1) / f.ipg
	ib, err := f.inodeBitmap(g)
	if err != nil {
		return
	}
	if !testBit(ib, int((ino-1)%f.ipg)) {
		return
	}
	clearBit(ib, int((ino-1)%f.ipg))
	f.setGD16pair(g, bgFreeInodes, bgFreeInodesHi, f.gdFreeInodes(g)+1)
	if dir {
		f.setGD16pair(g, bgUsedDirs, bgUsedDirsHi, f.gdUsedDirs(g)-1)
	}
	f.dirtyIB[g], f.dirtyGD[g] = true, true
}

// Path is the temporary name of the file.
func (s *Stream) Path() string { return joinParts([]string{s.dir, s.name}) }

// Size is the number of bytes written so far.
func (s *Stream) Size() int64 { return s.size + int64(len(s.buf)) }

var errStreamDone = errors.New("ext4: the file was committed or aborted")

// Write appends p to the file.
func (s *Stream) Write(p []byte) (int, error) {
	if s.done {
		return 0, errStreamDone
	}
	if s.err != nil {
		return 0, s.err
	}
	total := len(p)
	for len(p) > 0 {
		if s.buf == nil {
			s.buf = make([]byte, 0, streamBuf)
		}
		k := copy(s.buf[len(s.buf):cap(s.buf)], p)
		s.buf, p = s.buf[:len(s.buf)+k], p[k:]
		if len(s.buf) == cap(s.buf) {
			if err := s.flushBuf(false); err != nil {
				s.err = err
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// flushBuf writes the buffer at the end of the file, padded to whole blocks (only the
// last write of a file is not whole blocks). locked says the caller holds s.mu;
// otherwise it is taken only to allocate blocks. The buffer's content is gone
// afterwards (encrypted in place on a LUKS volume).
func (s *Stream) flushBuf(locked bool) error {
	f := s.f
	n := int64(len(s.buf))
	if n == 0 {
		return nil
	}
	whole := (n + f.bs - 1) / f.bs * f.bs
	if whole > n {
		if int64(cap(s.buf)) < whole {
			s.buf = append(s.buf, make([]byte, whole-n)...)
		}
		s.buf = s.buf[:whole]
		clear(s.buf[n:])
	}
	need := uint64((s.size + whole) / f.bs)
	s.rmu.Lock()
	if need > s.alloc {
		s.rmu.Unlock()
		if !locked {
			s.lock()
		}
		err := s.grow(need)
		if err == nil {
			// claimed before the lock goes: no reclaim can take them
			s.rmu.Lock()
		}
		if !locked {
			s.unlock()
		}
		if err != nil {
			return err
		}
	}
	s.claim = max(s.claim, need)
	exts := s.exts
	s.rmu.Unlock()
	// the blocks are this file's alone: written without the lock
	data := s.buf[:whole]
	lb := uint64(s.size / f.bs)
	ipw, inPlace := f.dev.(inPlaceWriter)
	for len(data) > 0 {
		pb, run, ok := mapRun(exts, lb)
		if !ok {
			return fmt.Errorf("ext4: %s: block %d not allocated", s.Path(), lb)
		}
		k := min(int64(run)*f.bs, int64(len(data)))
		var err error
		if inPlace {
			_, err = ipw.WriteAtInPlace(data[:k], int64(pb)*f.bs)
		} else {
			_, err = f.dev.WriteAt(data[:k], int64(pb)*f.bs)
		}
		if err != nil {
			return err
		}
		data = data[k:]
		lb += uint64(k / f.bs)
	}
	s.size += n
	s.buf = s.buf[:0]
	return nil
}

// Rewind drops what was written after the first size bytes; the next Write
// continues there. A partial block already on the device is read back into the
// buffer (the blocks stay allocated until Commit trims them).
func (s *Stream) Rewind(size int64) error {
	if s.done {
		return errStreamDone
	}
	if s.err != nil {
		return s.err
	}
	if size < 0 || size > s.Size() {
		return fmt.Errorf("ext4: %s: rewind to %d of %d bytes", s.Path(), size, s.Size())
	}
	if size >= s.size {
		s.buf = s.buf[:size-s.size]
		return nil
	}
	f := s.f
	start := size / f.bs * f.bs
	keep := size - start
	if s.buf == nil {
		s.buf = make([]byte, 0, streamBuf)
	}
	s.buf = s.buf[:keep]
	if keep > 0 {
		// a block below claim: never taken back
		s.rmu.Lock()
		pb, _, ok := mapRun(s.exts, uint64(start/f.bs))
		s.rmu.Unlock()
		if !ok {
			return fmt.Errorf("ext4: %s: block %d not allocated", s.Path(), start/f.bs)
		}
		blk := make([]byte, f.bs)
		if err := f.readBlocks(blk, pb); err != nil {
			s.err = err
			return err
		}
		copy(s.buf, blk[:keep])
	}
	s.size = start
	return nil
}

// mapRun returns the physical block of logical block lb of a file with extents exts
// and how many blocks follow it contiguously in its extent.
func mapRun(exts []extent, lb uint64) (uint64, uint64, bool) {
	for _, e := range exts {
		if lb >= uint64(e.lblk) && lb < uint64(e.lblk)+uint64(e.len) {
			return e.pblk + lb - uint64(e.lblk), uint64(e.lblk) + uint64(e.len) - lb, true
		}
	}
	return 0, 0, false
}

// grow allocates blocks up to at least need (a step when there is room, else just
// what is needed) and makes the inode own them: bitmaps, a flush, then the inode.
func (s *Stream) grow(need uint64) error {
	f := s.f
	want := need - s.alloc
	step := max(want, uint64(streamStep/f.bs))
	goal := f.groupStart(f.lastGroup)
	if l := len(s.exts); l > 0 {
		goal = s.exts[l-1].pblk + uint64(s.exts[l-1].len)
	}
	got, err := f.allocBlocks(step, goal)
	if errors.Is(err, ErrNoSpace) && step > want {
		step = want
		got, err = f.allocBlocks(step, goal)
	}
	if errors.Is(err, ErrNoSpace) {
		// other Streams' unwritten steps: a file that fits must not fail for them
		var freed bool
		if freed, err = f.reclaim(s); err == nil && freed {
			got, err = f.allocBlocks(step, goal)
		} else if err == nil {
			err = ErrNoSpace
		}
	}
	if err != nil {
		return err
	}
	exts := append([]extent(nil), s.exts...)
	lb := uint32(s.alloc)
	for _, e := range got {
		e.lblk = lb
		lb += e.len
		if l := len(exts); l > 0 {
			p := &exts[l-1]
			if p.pblk+uint64(p.len) == e.pblk && p.len+e.len <= maxInitExtentLen {
				p.len += e.len
				continue
			}
		}
		exts = append(exts, e)
	}
	last := exts[len(exts)-1]
	f.lastGroup = uint32((last.pblk + uint64(last.len) - 1 - f.firstData) / uint64(f.bpg))
	if err := s.point(exts, s.alloc+step, int64(s.alloc+step)*f.bs, true); err != nil {
		f.freeExtents(got)
		_ = f.writeMeta()
		return err
	}
	s.rmu.Lock()
	s.exts, s.alloc = exts, s.alloc+step
	s.rmu.Unlock()
	killpoint.Here("ext4: stream grown")
	return nil
}

// reclaim takes back, from every open Stream but self, the blocks of its steps
// that its Write has not claimed, and reports whether it freed any. Each keeps
// what it wrote and takes a new step when it writes on. Without it, a file that
// fits could find the volume full while, say, four packs being written held most
// of a 24 MiB step each: a killed backup's rerun into a 200 MiB test kit (120 MiB
// volume, 40 MiB of new data) once failed so with 24 KiB free. Order on the
// device, as Commit's trim: the inodes stop pointing at the tails (their sizes
// cut to match), a flush, then the tails are free.
func (f *FS) reclaim(self *Stream) (bool, error) {
	type cut struct {
		s    *Stream
		tail []extent
	}
	var cuts []cut
	for s := range f.streams {
		if s == self || s.done {
			continue
		}
		s.rmu.Lock()
		keep := s.claim
		if keep >= s.alloc {
			s.rmu.Unlock()
			continue
		}
		kept, tail := splitExtents(s.exts, keep)
		old, oldAlloc := s.exts, s.alloc
		// from here a Write that needs more waits for the caller's lock (grow)
		s.exts, s.alloc = kept, keep
		s.rmu.Unlock()
		if err := s.point(kept, keep, int64(keep)*f.bs, false); err != nil {
			// the inode still points at the tail
			s.rmu.Lock()
			s.exts, s.alloc = old, oldAlloc
			s.rmu.Unlock()
			return false, err
		}
		cuts = append(cuts, cut{s, tail})
	}
	if len(cuts) == 0 {
		return false, nil
	}
	if err := f.flush(); err != nil {
		return false, err
	}
	for _, c := range cuts {
		c.s.freeLater()
		f.freeExtents(c.tail)
	}
	return true, f.writeMeta()
}

// splitExtents splits a file's extents at logical block keep: those before it,
// and those from it on.
func splitExtents(exts []extent, keep uint64) (kept, tail []extent) {
	for _, e := range exts {
		switch end := uint64(e.lblk) + uint64(e.len); {
		case end <= keep:
			kept = append(kept, e)
		case uint64(e.lblk) >= keep:
			tail = append(tail, e)
		default:
			k := uint32(keep - uint64(e.lblk))
			kept = append(kept, extent{lblk: e.lblk, len: k, pblk: e.pblk})
			tail = append(tail, extent{lblk: e.lblk + k, len: e.len - k, pblk: e.pblk + uint64(k)})
		}
	}
	return kept, tail
}

// point makes the inode own exts (blocks data blocks) with the given size. With
// newBlocks (blocks were allocated), or when the extents need a tree (new tree
// blocks), the bitmaps are flushed before the inode is written. The old extent
// tree's blocks are freed after the next flush.
func (s *Stream) point(exts []extent, blocks uint64, size int64, newBlocks bool) error {
	f := s.f
	_, oldTree, err := f.extents(s.n)
	if err != nil {
		return err
	}
	n := &inode{ino: s.n.ino, b: append([]byte(nil), s.n.b...)}
	n.setSize(size)
	if err := f.setExtents(n, exts, blocks); err != nil {
		return err
	}
	if err := f.writeMeta(); err != nil {
		return err
	}
	if newBlocks || len(exts) > 4 {
		if err := f.flush(); err != nil {
			return err
		}
		s.freeLater()
	}
	if err := f.writeInode(n); err != nil {
		return err
	}
	s.n = n
	s.freeNext = append(s.freeNext, oldTree...)
	return nil
}

// freeLater frees the extent tree blocks of earlier inodes: called after a flush
// that made the inode pointing away from them durable.
func (s *Stream) freeLater() {
	for _, b := range s.freeNext {
		s.f.freeBlock(b)
	}
	s.freeNext = nil
}

// Commit writes what is buffered, trims the allocation to the file's size, makes the
// file durable, and renames it to p (which must be a name not in use, in any folder;
// missing folders are created). If p exists, the temporary file is removed and
// Commit reports fs.ErrExist. Order on the device: data and inode, a flush; the new
// name; after the next flush of the FS (made by any later write, or Close), the
// temporary name removed. A crash between the last two leaves the file under both
// names with one link: RemoveName drops the temporary name without freeing the file.
func (s *Stream) Commit(p string, mtime time.Time) error {
	if s.done {
		return errStreamDone
	}
	if s.err != nil {
		return s.err
	}
	f := s.f
	dirPath, name, err := splitFilePath(p)
	if err != nil {
		return err
	}
	if err := s.flushBuf(true); err != nil {
		s.err = err
		return err
	}
	// trim to the size: the inode stops pointing at the rest, then it is freed
	keep := uint64((s.size + f.bs - 1) / f.bs)
	kept, tail := splitExtents(s.exts, keep)
	if mtime.IsZero() {
		mtime = f.now()
	}
	put32(s.n.b, iMtime, uint32(mtime.Unix()))
	put32(s.n.b, iCtime, uint32(f.now().Unix()))
	if err := s.point(kept, keep, s.size, false); err != nil {
		s.err = err
		return err
	}
	if err := f.flush(); err != nil {
		s.err = err
		return err
	}
	s.freeLater()
	f.freeExtents(tail)
	s.rmu.Lock()
	s.exts, s.alloc = kept, keep
	s.rmu.Unlock()
	delete(f.streams, s) // nothing left to take back
	if err := f.writeMeta(); err != nil {
		s.err = err
		return err
	}
	killpoint.Here("ext4: stream complete")
	if testHook != nil {
		testHook("complete")
	}
	dir, err := f.mkdirAll(dirPath)
	if err != nil {
		s.err = err
		return err
	}
	if ino, err := f.lookupIn(dir, name); err != nil {
		s.err = err
		return err
	} else if ino != 0 {
		err := &fs.PathError{Op: "rename", Path: p, Err: fs.ErrExist}
		s.Abort()
		return err
	}
	if err := f.addEntry(dir, name, s.n.ino, ftReg); err != nil {
		s.err = err
		return err
	}
	if err := f.writeMeta(); err != nil {
		s.done = true // named: never freed by Abort now
		return err
	}
	s.done = true
	// The temporary name goes once a flush has made the new name durable: the next
	// write of the FS that starts after one (or Close) removes it. No flush of its
	// own here: the flush that makes the new name durable is the one that must
	// come before anything refers to the file (a repository's index is written by
	// WriteFile, whose flush before its name covers this name too). A power cut
	// before leaves the file under its temporary name only (removed whole by the
	// next opening's clean-up, nothing refers to it yet) or under both names
	// (RemoveName resolves it).
	f.unnamed = append(f.unnamed, laterName{dir: s.dir, name: s.name, ticket: f.tickets})
	killpoint.Here("ext4: stream renamed")
	if testHook != nil {
		testHook("renamed")
	}
	return nil
}

// testHook runs at the steps where a crash leaves a complete file under its temporary
// name ("complete") or under both names ("renamed").
var testHook func(step string)

// Abort removes the temporary file and gives its blocks back. It does nothing after
// Commit.
func (s *Stream) Abort() error {
	if s.done {
		return nil
	}
	s.done = true
	delete(s.f.streams, s)
	err := s.f.Remove(s.Path())
	s.freeLater()
	if err == nil {
		err = s.f.writeMeta()
	}
	return err
}

// RemoveName removes the name p of a regular file that has another name (a Stream
// renamed by a Commit that was interrupted before it removed the temporary name): the
// inode and its blocks stay, owned by the other name.
func (f *FS) RemoveName(p string) error {
	dir, name, n, err := f.entryToRemove(p)
	if err != nil {
		return err
	}
	if n.mode()&modeType != modeReg {
		return fmt.Errorf("ext4: %s is not a regular file", p)
	}
	if err := f.removeEntry(dir, name); err != nil {
		return err
	}
	if l := le16(n.b, iLinks); l > 1 {
		put16(n.b, iLinks, l-1)
		if err := f.writeInode(n); err != nil {
			return err
		}
	}
	return f.sync()
}
