package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"travelkit/internal/bytesize"
	"travelkit/internal/killpoint"
)

// Folder is a Storage on a local directory, laid out exactly as restic's local
// backend: config, keys/, locks/, snapshots/, index/ and data/<2 hex>/.
type Folder struct {
	Dir string

	// open pack files, kept for ranged reads (files never change)
	mu    sync.Mutex
	open  map[string]*packFile
	order []string

	// held: the temporary files holding reserved space (Reserve)
	heldMu sync.Mutex
	held   map[*folderTemp]struct{}
	// releaseMu: one releaseReserved at a time
	releaseMu sync.Mutex
}

// packFile is an open pack file, closed when the cache has dropped it and
// its last reader is done.
type packFile struct {
	fh   *os.File
	refs int // readers, plus one while in the cache
}

// NewFolder returns the storage for the repository in dir.
func NewFolder(dir string) *Folder { return &Folder{Dir: dir} }

const maxOpenPacks = 32

// packHandle returns a cached read-only handle of a pack file; the caller
// gives it back with release.
func (f *Folder) packHandle(h Handle) (*packFile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pf, ok := f.open[h.Name]; ok {
		pf.refs++
		return pf, nil
	}
	fh, err := openShared(f.path(h))
	if err != nil {
		return nil, err
	}
	if f.open == nil {
		f.open = map[string]*packFile{}
	}
	if len(f.order) >= maxOpenPacks {
		f.dropLocked(f.order[0])
	}
	pf := &packFile{fh: fh, refs: 2}
	f.open[h.Name] = pf
	f.order = append(f.order, h.Name)
	return pf, nil
}

func (f *Folder) release(pf *packFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unrefLocked(pf)
}

func (f *Folder) unrefLocked(pf *packFile) {
	if pf.refs--; pf.refs == 0 {
		pf.fh.Close()
	}
}

// dropLocked takes a pack out of the cache; readers may still use it.
func (f *Folder) dropLocked(name string) {
	pf, ok := f.open[name]
	if !ok {
		return
	}
	delete(f.open, name)
	for i, n := range f.order {
		if n == name {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	f.unrefLocked(pf)
}

func (f *Folder) forget(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropLocked(name)
}

// Close closes the pack files kept open for reading (at once, or when their
// last reader is done). The folder stays usable.
func (f *Folder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.order) > 0 {
		f.dropLocked(f.order[0])
	}
	return nil
}

var allTypes = []FileType{KeyFile, LockFile, SnapshotFile, IndexFile, PackFile}

func (f *Folder) path(h Handle) string {
	switch h.Type {
	case ConfigFile:
		return filepath.Join(f.Dir, "config")
	case PackFile:
		if len(h.Name) >= 2 {
			return filepath.Join(f.Dir, "data", h.Name[:2], h.Name)
		}
	}
	return filepath.Join(f.Dir, string(h.Type), h.Name)
}

func validName(h Handle) error {
	if h.Type == ConfigFile {
		return nil
	}
	if h.Name == "" || strings.ContainsAny(h.Name, `/\`) || h.Name[0] == '.' {
		return fmt.Errorf("invalid file name %q", h.Name)
	}
	return nil
}

// Create makes the directories of a new repository.
func (f *Folder) Create(ctx context.Context) error {
	for _, t := range allTypes {
		if err := os.MkdirAll(filepath.Join(f.Dir, string(t)), 0o700); err != nil {
			return err
		}
	}
	for i := 0; i < 256; i++ {
		if err := os.MkdirAll(filepath.Join(f.Dir, "data", fmt.Sprintf("%02x", i)), 0o700); err != nil {
			return err
		}
	}
	return syncDir(f.Dir)
}

// Save writes data to a temporary file in the final directory, syncs it,
// renames it into place and syncs the directory.
func (f *Folder) Save(ctx context.Context, h Handle, data []byte) error {
	if err := validName(h); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	final := f.path(h)
	dir := filepath.Dir(final)
	tmp, err := os.CreateTemp(dir, filepath.Base(final)+"-tmp-")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			tmp, err = os.CreateTemp(dir, filepath.Base(final)+"-tmp-")
		}
	}
	if err != nil {
		return fmt.Errorf("failed to save %v: %w", h, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to save %v: %w", h, err)
	}
	n, err := tmp.Write(data)
	if errors.Is(err, syscall.ENOSPC) {
		// space streamed packs reserved and have not written: given back
		f.releaseReserved(nil)
		_, err = tmp.Write(data[n:])
	}
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			err = &DiskFullError{Need: int64(len(data)), Err: err}
		}
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := setReadOnly(tmp.Name()); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fail(err)
	}
	if h.Type == LockFile {
		// a lock's name need not outlive a power loss: other processes see it
		// at once, and after a crash its owner is gone, so a lock lost then is
		// what its owner would have removed. Its content is synced above, so
		// a lock that survives is a whole one (an unreadable lock would count
		// as held). This directory sync was one of the two device flushes
		// every backup waited for before its walk began.
		return nil
	}
	return syncDir(dir)
}

// Load reads part or all of a file.
func (f *Folder) Load(ctx context.Context, h Handle, off int64, n int) ([]byte, error) {
	if err := validName(h); err != nil {
		return nil, err
	}
	if h.Type == PackFile && off >= 0 && n > 0 {
		pf, err := f.packHandle(h)
		if err != nil {
			return nil, err
		}
		defer f.release(pf)
		return readAt(pf.fh, h, off, n)
	}
	fh, err := os.Open(f.path(h))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if off == 0 && n <= 0 {
		return io.ReadAll(fh)
	}
	if off < 0 || n <= 0 {
		fi, err := fh.Stat()
		if err != nil {
			return nil, err
		}
		if off < 0 {
			off += fi.Size()
			if off < 0 {
				return nil, fmt.Errorf("%v: offset before start of file", h)
			}
		}
		if n <= 0 {
			n = int(fi.Size() - off)
			if n < 0 {
				n = 0
			}
		}
	}
	return readAt(fh, h, off, n)
}

func readAt(fh *os.File, h Handle, off int64, n int) ([]byte, error) {
	buf := make([]byte, n)
	m, err := fh.ReadAt(buf, off)
	if err == io.EOF && m == n {
		err = nil
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %v: %w", h, err)
	}
	return buf, nil
}

// ReadAt reads len(p) bytes of a file at off.
func (f *Folder) ReadAt(ctx context.Context, h Handle, p []byte, off int64) error {
	if err := validName(h); err != nil {
		return err
	}
	var fh *os.File
	var err error
	if h.Type == PackFile {
		var pf *packFile
		if pf, err = f.packHandle(h); err == nil {
			defer f.release(pf)
			fh = pf.fh
		}
	} else {
		fh, err = os.Open(f.path(h))
		if err == nil {
			defer fh.Close()
		}
	}
	if err != nil {
		return err
	}
	n, err := fh.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("reading %v: %w", h, err)
	}
	return nil
}

// Stat returns the size of a file.
func (f *Folder) Stat(ctx context.Context, h Handle) (int64, error) {
	if err := validName(h); err != nil {
		return 0, err
	}
	fi, err := os.Stat(f.path(h))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// List calls fn for each file of type t, skipping temporary files.
func (f *Folder) List(ctx context.Context, t FileType, fn func(string, int64) error) error {
	dirs := []string{filepath.Join(f.Dir, string(t))}
	if t == PackFile {
		subs, err := os.ReadDir(dirs[0])
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		dirs = dirs[:0]
		for _, s := range subs {
			if s.IsDir() {
				dirs = append(dirs, filepath.Join(f.Dir, string(t), s.Name()))
			}
		}
	}
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || strings.Contains(e.Name(), "-tmp-") || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			fi, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return err
			}
			if err := fn(e.Name(), fi.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove deletes a file. Files are read-only, which does not stop removal on Unix.
func (f *Folder) Remove(ctx context.Context, h Handle) error {
	if err := validName(h); err != nil {
		return err
	}
	if h.Type == PackFile {
		f.forget(h.Name)
	}
	p := f.path(h)
	err := os.Remove(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Windows refuses to remove read-only files.
		_ = os.Chmod(p, 0o600)
		err = os.Remove(p)
	}
	return err
}

// LocalReads marks the folder a LocalReader.
func (f *Folder) LocalReads() {}

// CreateTemp starts a file of type t in the folder of that type, named with
// "-tmp-" (which List skips, as restic's local backend writes its own).
func (f *Folder) CreateTemp(ctx context.Context, t FileType) (TempFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := filepath.Join(f.Dir, string(t))
	if t == PackFile {
		dir = filepath.Join(dir, "00")
	}
	tmp, err := os.CreateTemp(dir, "stream-tmp-")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			tmp, err = os.CreateTemp(dir, "stream-tmp-")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to create a %s file: %w", t, err)
	}
	return &folderTemp{f: f, fh: tmp}, nil
}

// DiskFullError says the disk of a folder repository is full (errors.Is(err,
// syscall.ENOSPC) holds). The repository stays consistent: a file is either absent or
// complete.
type DiskFullError struct {
	Need int64 // the size of the file that did not fit, when it was known at once (else 0)
	Err  error
}

func (e *DiskFullError) Error() string {
	if e.Need > 0 {
		return fmt.Sprintf("%v: %s more are needed for this file alone; free space on the disk, then run the backup again (the repository stays consistent)", e.Err, bytesize.Format(e.Need))
	}
	return fmt.Sprintf("%v: free space on the disk, then run the backup again (the repository stays consistent)", e.Err)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

type folderTemp struct {
	f  *Folder
	fh *os.File
	// mu: another file's Write that found the disk full may cut this one's
	// reserved space meanwhile (Folder.releaseReserved)
	mu sync.Mutex
	n  int64 // bytes written, buf's included
	// inFile: bytes written to the file itself (n less buf's)
	inFile int64
	// reserved: the file was given its expected size at once (Reserve); its
	// length is set to n when it is committed
	reserved bool
	// buf holds the last short writes, not yet in the file (see Write)
	buf *[]byte
}

// A streamed pack is written in small pieces: per blob an IV, the compressor's
// frame header and blocks, the ciphertext and a MAC, each a Write. A first
// backup of 100,000 files (5 KiB each on average) made 310,000 write calls,
// 0.9 s of its 5.1 s of CPU in the kernel's per-call work. Writes shorter than
// tempDirect are gathered in a buffer of tempBufSize bytes and written
// together; longer ones (a large chunk's ciphertext) go to the file as they
// are, after what is gathered, so that they are not copied once more.
const (
	tempBufSize = 128 << 10
	tempDirect  = 32 << 10
)

// tempBufs are the gathering buffers of the temporary files being written.
var tempBufs = sync.Pool{New: func() any { b := make([]byte, 0, tempBufSize); return &b }}

// Reserve gives the empty file n bytes of allocated space (Reserver). On
// journaled ext4 a write that extends a file changes its size in the journal:
// with its packs written into reserved space, a 1 GiB first backup took 0.80x
// the system time and 0.97x the CPU (README "Benchmarks", "Where a first
// backup's time goes"). Without room or support (see reserve), nothing is
// reserved and the file grows with its writes as before.
//
// Space reserved and not written is taken until the file is committed, so a
// backup that just fits would stop at ENOSPC earlier: on a 96 MiB ext4 with
// 81 MiB free, 71 MiB of new data stopped with 27 MB free when every pack
// reserved 16 MiB. A file is reserved only with ample room beside it, more the
// more files hold reservations at once (reserveRoom); a nearly full disk is
// written as without reservations. And a write that finds the disk full
// first cuts the other files' reserved space to what they hold
// (releaseReserved).
func (t *folderTemp) Reserve(n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n != 0 || t.reserved {
		return
	}
	// on the list before the space is taken: a write that finds the disk
	// full meanwhile waits for t.mu, then cuts what t reserved
	f := t.f
	f.heldMu.Lock()
	if f.held == nil {
		f.held = map[*folderTemp]struct{}{}
	}
	f.held[t] = struct{}{}
	open := int64(len(f.held))
	f.heldMu.Unlock()
	if t.reserved = reserve(t.fh, n, reserveRoom(open, n)); !t.reserved {
		t.unreserve()
	}
}

// reserveRoom is the free space a file needs beside the n bytes it reserves
// when open files hold reservations (it among them): 64 MiB, and four times
// what they may reserve. A reserved file stays open while the other packs
// fill about one pack each, so the space reserved and not yet written never
// nears what a backup that fits leaves free.
var reserveRoom = func(open, n int64) int64 { return 64<<20 + 4*open*n }

// unreserve takes the file off the list of those holding reserved space.
func (t *folderTemp) unreserve() {
	t.f.heldMu.Lock()
	delete(t.f.held, t)
	t.f.heldMu.Unlock()
}

// releaseReserved cuts the reserved space of every temporary file but except to what
// it holds (they then grow with their writes): a write that found the disk
// full then tries once more, so that a backup that fits never stops for
// space reserved and not written. Releases run one at a time, and a write
// tries again even when its own release found nothing left to cut: two
// writes that found the disk full at once both wait until the first release
// has cut every file (without that, one in two runs of
// TestFolderBackupNearlyFull with every pack reserving stopped at ENOSPC
// with 10 MiB free).
func (f *Folder) releaseReserved(except *folderTemp) {
	f.releaseMu.Lock()
	defer f.releaseMu.Unlock()
	f.heldMu.Lock()
	var ts []*folderTemp
	for t := range f.held {
		if t != except {
			ts = append(ts, t)
			delete(f.held, t)
		}
	}
	f.heldMu.Unlock()
	for _, t := range ts {
		t.mu.Lock()
		// to what is in the file: the gathered bytes extend it when written
		if t.reserved && t.fh.Truncate(t.inFile) == nil {
			t.reserved = false
		}
		t.mu.Unlock()
	}
}

// Write gathers p in the buffer, or writes it to the file when it is long
// (tempDirect). An error of an earlier gathered write may surface here or in
// Commit; the file is then aborted by its writer.
func (t *folderTemp) Write(p []byte) (int, error) {
	if len(p) < tempDirect {
		if t.buf == nil {
			t.buf = tempBufs.Get().(*[]byte)
		}
		if len(*t.buf)+len(p) > cap(*t.buf) {
			if err := t.flush(); err != nil {
				return 0, err
			}
		}
		*t.buf = append(*t.buf, p...)
		t.n += int64(len(p))
		return len(p), nil
	}
	if err := t.flush(); err != nil {
		return 0, err
	}
	n, err := t.writeFile(p)
	t.n += int64(n)
	return n, err
}

// flush writes the gathered bytes to the file.
func (t *folderTemp) flush() error {
	if t.buf == nil || len(*t.buf) == 0 {
		return nil
	}
	n, err := t.writeFile(*t.buf)
	if err != nil {
		// the bytes not written are lost: the file is short of t.n
		t.n -= int64(len(*t.buf) - n)
	}
	*t.buf = (*t.buf)[:0]
	return err
}

// writeFile writes p to the file itself.
func (t *folderTemp) writeFile(p []byte) (int, error) {
	t.mu.Lock()
	n, err := t.fh.Write(p)
	t.inFile += int64(n)
	t.mu.Unlock()
	if errors.Is(err, syscall.ENOSPC) {
		t.f.releaseReserved(t)
		// not holding t.mu: another file's Write may be releasing t
		t.mu.Lock()
		k, err2 := t.fh.Write(p[n:])
		t.inFile += int64(k)
		t.mu.Unlock()
		n, err = n+k, err2
	}
	killpoint.Here("repo: folder stream written")
	if errors.Is(err, syscall.ENOSPC) {
		err = &DiskFullError{Err: err}
	}
	return n, err
}

// release gives the buffer back for other files.
func (t *folderTemp) release() {
	if t.buf != nil {
		*t.buf = (*t.buf)[:0]
		tempBufs.Put(t.buf)
		t.buf = nil
	}
}

// Rewind truncates the file to off bytes and writes on from there.
func (t *folderTemp) Rewind(off int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if off < 0 || off > t.n {
		return fmt.Errorf("rewind to %d of a %d-byte file", off, t.n)
	}
	if off >= t.inFile {
		// within what is gathered: nothing was written to the file
		if t.buf != nil {
			*t.buf = (*t.buf)[:off-t.inFile]
		}
		t.n = off
		return nil
	}
	if t.buf != nil {
		*t.buf = (*t.buf)[:0]
	}
	// reserved space keeps its size (the next writes then do not extend the
	// file): Commit cuts the file to its length
	if !t.reserved {
		if err := t.fh.Truncate(off); err != nil {
			return err
		}
	}
	if _, err := t.fh.Seek(off, io.SeekStart); err != nil {
		return err
	}
	t.n, t.inFile = off, off
	return nil
}

func (t *folderTemp) Commit(ctx context.Context, h Handle) error {
	fail := func(err error) error {
		t.Abort()
		return fmt.Errorf("failed to save %v: %w", h, err)
	}
	if err := validName(h); err != nil {
		return fail(err)
	}
	err := t.flush()
	t.release()
	if err != nil {
		return fail(err)
	}
	t.unreserve()
	t.mu.Lock()
	reserved := t.reserved
	t.mu.Unlock()
	if reserved {
		if err := t.fh.Truncate(t.n); err != nil {
			return fail(err)
		}
	}
	if err := t.fh.Sync(); err != nil {
		return fail(err)
	}
	dropCached(t.fh)
	if err := t.fh.Close(); err != nil {
		return fail(err)
	}
	if err := setReadOnly(t.fh.Name()); err != nil {
		return fail(err)
	}
	final := t.f.path(h)
	dir := filepath.Dir(final)
	err = os.Rename(t.fh.Name(), final)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			err = os.Rename(t.fh.Name(), final)
		}
	}
	if err != nil {
		return fail(err)
	}
	return syncDir(dir)
}

func (t *folderTemp) Abort() {
	t.release()
	t.fh.Close()
	os.Remove(t.fh.Name())
	t.unreserve()
}

var _ TempRemover = (*Folder)(nil)

// RemoveTemps removes the temporary files an interrupted run left in the
// repository's folders (data/00/stream-tmp-*, and the "-tmp-" files Save writes
// before its rename): prune calls it holding the exclusive lock.
func (f *Folder) RemoveTemps(ctx context.Context) error {
	return f.removeTempsBefore(ctx, time.Time{})
}

// RemoveTempsBefore removes the temporary files last written before t (a backup,
// once it holds its lock and no other process holds one, passes its lock's time:
// a file a newer process starts after that is never touched).
func (f *Folder) RemoveTempsBefore(ctx context.Context, t time.Time) error {
	return f.removeTempsBefore(ctx, t)
}

func (f *Folder) removeTempsBefore(ctx context.Context, t time.Time) error {
	dirs := []string{filepath.Join(f.Dir, string(PackFile), "00")}
	for _, ft := range []FileType{KeyFile, LockFile, SnapshotFile, IndexFile} {
		dirs = append(dirs, filepath.Join(f.Dir, string(ft)))
	}
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || !strings.Contains(e.Name(), "-tmp-") {
				continue
			}
			if !t.IsZero() {
				info, err := e.Info()
				if err != nil || !info.ModTime().Before(t) {
					continue
				}
			}
			p := filepath.Join(d, e.Name())
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("removing %s, left by an interrupted backup: %w", p, err)
			}
		}
	}
	return nil
}
