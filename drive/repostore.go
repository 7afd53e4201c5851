package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sync"
	"time"

	"travelkit/image/ext4"
	"travelkit/internal/bytesize"
	"travelkit/repo"
)

// KitFullError says a file did not fit in the kit's encrypted volume: how much room is
// left and what the write needed. The repository stays consistent (the file is either
// absent or complete). errors.Is(err, ext4.ErrNoSpace) holds.
type KitFullError struct {
	Free  int64 // bytes free in the encrypted volume after the failed write
	Need  int64 // bytes the write needed
	Whole bool  // the write was one whole file (Error says how much more it needs)
	Err   error // ext4.ErrNoSpace
}

// ForgetCommand is the command KitFullError suggests.
const ForgetCommand = "travelkit forget --keep-last N --prune"

func (e *KitFullError) Error() string {
	if e.Whole {
		return fmt.Sprintf("the kit is full: %s free in its encrypted volume, and this file alone needs %s more (%v); the repository stays consistent: remove old snapshots with `%s`, or use a bigger drive",
			bytesize.Format(e.Free), bytesize.Format(max(0, e.Need-e.Free)), e.Err, ForgetCommand)
	}
	return fmt.Sprintf("the kit is full: %s free in its encrypted volume, not enough for %s (%v); the repository stays consistent: remove old snapshots with `%s`, or use a bigger drive",
		bytesize.Format(e.Free), bytesize.Format(max(e.Need, 0)), e.Err, ForgetCommand)
}

func (e *KitFullError) Unwrap() error { return e.Err }

// RepoStorage keeps a backup repository (restic format) in repo/ of a kit's encrypted
// ext4 volume. Every file is written whole (data, then inode, then directory entry, with
// flushes between), so after a crash a file is either absent or complete.
type RepoStorage struct {
	mu       sync.Mutex // ext4.FS is not safe for concurrent use
	fs       *ext4.FS
	readOnly bool
	open     map[string]*ext4.File // files opened for reading: restic files never change
	cleaned  bool                  // temporary files left by an earlier run are removed
}

// maxOpen bounds the cache of opened files.
const maxOpen = 256

// file opens p for reading through the cache; the caller holds s.mu.
func (s *RepoStorage) file(p string) (*ext4.File, error) {
	if f := s.open[p]; f != nil {
		return f, nil
	}
	f, err := s.fs.Open(p)
	if err != nil {
		return nil, err
	}
	if s.open == nil || len(s.open) >= maxOpen {
		s.open = map[string]*ext4.File{}
	}
	s.open[p] = f
	return f, nil
}

// SetReadOnly makes every change fail: for commands that only read (restore, check).
func (s *RepoStorage) SetReadOnly() { s.readOnly = true }

// ReadOnly reports whether the storage refuses changes.
func (s *RepoStorage) ReadOnly() bool { return s.readOnly }

var errReadOnly = errors.New("the kit was opened read-only")

// RepoStorage returns the storage of the kit's repository.
func (u *Unlocked) RepoStorage() *RepoStorage { return &RepoStorage{fs: u.FS} }

var _ repo.Storage = (*RepoStorage)(nil)

func (s *RepoStorage) path(h repo.Handle) string {
	switch {
	case h.Type == repo.ConfigFile:
		return RepoDir + "/config"
	case h.Type == repo.PackFile && len(h.Name) >= 2:
		return RepoDir + "/data/" + h.Name[:2] + "/" + h.Name
	}
	return RepoDir + "/" + string(h.Type) + "/" + h.Name
}

// Create makes the repository's folders, as restic does.
func (s *RepoStorage) Create(ctx context.Context) error {
	if s.readOnly {
		return errReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var dirs []string
	for _, t := range []repo.FileType{repo.KeyFile, repo.LockFile, repo.SnapshotFile, repo.IndexFile} {
		dirs = append(dirs, RepoDir+"/"+string(t))
	}
	for i := 0; i < 256; i++ {
		dirs = append(dirs, fmt.Sprintf("%s/data/%02x", RepoDir, i))
	}
	return s.fs.MkdirAllEach(dirs...) // one flush for all
}

func (s *RepoStorage) Save(ctx context.Context, h repo.Handle, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return errReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.path(h)
	delete(s.open, p)
	if err := s.fs.MkdirAll(path.Dir(p)); err != nil {
		return fmt.Errorf("saving %s: %w", h, err)
	}
	write := s.fs.WriteFile
	if h.Type == repo.IndexFile || h.Type == repo.LockFile {
		// no flush after the name: an index is named durably by the flush before
		// the snapshot's name (or the next index's, or Close's), which is all a
		// snapshot needs; a lock's name need not outlive a power cut (its owner is
		// gone then). Removals flush such a name first (ext4.FS.WriteFileLater).
		write = s.fs.WriteFileLater
	}
	if err := write(p, bytes.NewReader(data), int64(len(data)), time.Now()); err != nil {
		if errors.Is(err, ext4.ErrNoSpace) {
			return &KitFullError{Free: int64(s.fs.FreeBlocks()) * s.fs.BlockSize(), Need: int64(len(data)), Whole: true, Err: err}
		}
		return fmt.Errorf("saving %s in the kit: %w", h, err)
	}
	return nil
}

func (s *RepoStorage) Load(ctx context.Context, h repo.Handle, off int64, n int) ([]byte, error) {
	// the lock covers the lookup; the read itself runs concurrently (an
	// opened file's extents never change, and ext4 reads use no mutable state)
	s.mu.Lock()
	f, err := s.file(s.path(h))
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h, err)
	}
	size := f.Size()
	if err := s.plausible(h, size); err != nil {
		return nil, err
	}
	if off < 0 {
		off = max(0, size+off)
	}
	if off > size {
		return nil, fmt.Errorf("%s: offset %d past the end (%d bytes)", h, off, size)
	}
	if n <= 0 || int64(n) > size-off {
		if size-off > maxWholeLoad {
			return nil, fmt.Errorf("%s: %s is more than travelkit reads of one repository file at once (%s)", h, bytesize.Format(size-off), bytesize.Format(maxWholeLoad))
		}
		n = int(size - off)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", h, err)
	}
	return b, nil
}

// LocalReads marks the kit's storage a repo.LocalReader: check reads packs blob
// by blob.
func (s *RepoStorage) LocalReads() {}

// ReadAt reads len(p) bytes of h at off into p (repo.RangeReader: restore reads blobs
// into its own buffers).
func (s *RepoStorage) ReadAt(ctx context.Context, h repo.Handle, p []byte, off int64) error {
	s.mu.Lock()
	f, err := s.file(s.path(h))
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", h, err)
	}
	if off < 0 || off+int64(len(p)) > f.Size() {
		return fmt.Errorf("%s: %d bytes at %d: past the end (%d bytes)", h, len(p), off, f.Size())
	}
	if _, err := f.ReadAt(p, off); err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", h, err)
	}
	return nil
}

var _ repo.RangeReader = (*RepoStorage)(nil)

func (s *RepoStorage) Stat(ctx context.Context, h repo.Handle) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.fs.Stat(s.path(h))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", h, err)
	}
	if err := s.plausible(h, st.Size); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// maxWholeLoad bounds a file read whole (the repository bounds each kind of file
// further); restic's largest pack files are 128 MiB.
const maxWholeLoad = 256 << 20

// plausible refuses a size the kit's file system cannot hold: an inode of a damaged or
// crafted file system (a sparse 1 TiB file, which e2fsck accepts, or 2^62 bytes) would
// otherwise become an allocation of that size.
func (s *RepoStorage) plausible(h repo.Handle, size int64) error {
	limit := int64(s.fs.Blocks()) * s.fs.BlockSize()
	if size < 0 || size > limit {
		return fmt.Errorf("%s claims %s, more than the kit's whole file system (%s): the file system is damaged or was tampered with; on Linux check it with cryptsetup open, then e2fsck -f /dev/mapper/NAME",
			h, bytesize.Format(size), bytesize.Format(limit))
	}
	return nil
}

func (s *RepoStorage) List(ctx context.Context, t repo.FileType, fn func(string, int64) error) error {
	s.mu.Lock()
	var names []string
	var sizes []int64
	dirs := []string{RepoDir + "/" + string(t)}
	if t == repo.PackFile {
		subs, err := s.fs.ReadDir(RepoDir + "/data")
		if err != nil {
			s.mu.Unlock()
			if isNotExist(err) {
				return nil
			}
			return err
		}
		dirs = dirs[:0]
		for _, d := range subs {
			if d.IsDir() {
				dirs = append(dirs, RepoDir+"/data/"+d.Name)
			}
		}
	}
	for _, d := range dirs {
		ents, err := s.fs.ReadDir(d)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			s.mu.Unlock()
			return err
		}
		for _, e := range ents {
			if !e.IsDir() && !isTemp(e.Name) {
				names, sizes = append(names, e.Name), append(sizes, e.Size)
			}
		}
	}
	s.mu.Unlock()
	// fn may call back into the storage: not under the lock
	for i, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(n, sizes[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *RepoStorage) Remove(ctx context.Context, h repo.Handle) error {
	if s.readOnly {
		return errReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, s.path(h))
	if err := s.fs.Remove(s.path(h)); err != nil {
		return fmt.Errorf("removing %s: %w", h, err)
	}
	return nil
}

func isNotExist(err error) bool { return err != nil && (errors.Is(err, fs.ErrNotExist)) }
