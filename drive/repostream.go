package drive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"travelkit/image/ext4"
	"travelkit/repo"
)

// tempPrefix starts the names of files a backup is writing (repo.Streamer); List
// skips them, and restic ignores names that are not IDs.
const tempPrefix = "stream-tmp-"

func isTemp(name string) bool { return strings.Contains(name, "-tmp-") }

var (
	_ repo.Streamer    = (*RepoStorage)(nil)
	_ repo.TempRemover = (*RepoStorage)(nil)
	_ repo.Rewinder    = (*kitTemp)(nil)
)

// CreateTemp starts a file of type t under a temporary name in the kit's volume (for
// packs in data/00): a backup writes each pack there as it is made, in whole blocks,
// and Commit renames it. Temporary files left by an interrupted run are removed
// first, once per opening of the kit (a kit is written by one process at a time).
func (s *RepoStorage) CreateTemp(ctx context.Context, t repo.FileType) (repo.TempFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.readOnly {
		return nil, errReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cleaned {
		if err := s.removeTempsLocked(); err != nil {
			return nil, err
		}
	}
	dir := RepoDir + "/" + string(t)
	if t == repo.PackFile {
		dir += "/00"
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	st, err := s.fs.CreateStream(dir + "/" + tempPrefix + hex.EncodeToString(rnd[:]))
	if err != nil {
		return nil, fmt.Errorf("starting a %s file in the kit: %w", t, err)
	}
	// savers write their packs at once: each encrypts and writes its own blocks,
	// the storage lock covers only block allocation and names
	st.Share(&s.mu)
	return &kitTemp{s: s, st: st}, nil
}

// kitTemp is a file being written into the kit.
type kitTemp struct {
	s  *RepoStorage
	st *ext4.Stream
}

// Write runs beside other files' writes (ext4.Stream.Share): no storage lock here.
func (k *kitTemp) Write(p []byte) (int, error) {
	n, err := k.st.Write(p)
	if err != nil {
		k.s.mu.Lock()
		defer k.s.mu.Unlock()
		return n, k.s.writeError(k.st.Path(), int64(len(p)), err)
	}
	return n, nil
}

// Rewind drops what was written after off (repo.Rewinder).
func (k *kitTemp) Rewind(off int64) error {
	return k.st.Rewind(off)
}

func (k *kitTemp) Commit(ctx context.Context, h repo.Handle) error {
	s := k.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		k.st.Abort()
		return err
	}
	p := s.path(h)
	delete(s.open, p)
	err := k.st.Commit(p, time.Now())
	if errors.Is(err, fs.ErrExist) {
		return nil // named by its content: the same file is there already
	}
	if err != nil {
		k.st.Abort() // nothing after the rename: then the file stays
		return s.writeError(p, 0, err)
	}
	return nil
}

func (k *kitTemp) Abort() {
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	k.st.Abort()
}

// writeError words a failed write: a full kit says how much room is left.
func (s *RepoStorage) writeError(what string, need int64, err error) error {
	if errors.Is(err, ext4.ErrNoSpace) {
		return &KitFullError{Free: int64(s.fs.FreeBlocks()) * s.fs.BlockSize(), Need: need, Err: err}
	}
	return fmt.Errorf("writing %s in the kit: %w", what, err)
}

// RemoveTemps removes the temporary files an interrupted backup left (prune calls it
// with the repository locked exclusively).
func (s *RepoStorage) RemoveTemps(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeTempsLocked()
}

// removeTempsLocked removes every temporary file under repo/. One whose commit was
// interrupted after its final name was written is the same file as a pack: only its
// temporary name goes; any other is removed with its blocks.
func (s *RepoStorage) removeTempsLocked() error {
	var temps []string
	var inos []uint32
	dirs := []string{RepoDir + "/data/00"}
	for _, t := range []repo.FileType{repo.KeyFile, repo.LockFile, repo.SnapshotFile, repo.IndexFile} {
		dirs = append(dirs, RepoDir+"/"+string(t))
	}
	for _, d := range dirs {
		ents, err := s.fs.ReadDir(d)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !e.IsDir() && strings.HasPrefix(e.Name, tempPrefix) {
				temps, inos = append(temps, d+"/"+e.Name), append(inos, e.Ino)
			}
		}
	}
	if len(temps) == 0 {
		s.cleaned = true
		return nil
	}
	named := map[uint32]bool{}
	for _, ino := range inos {
		named[ino] = false
	}
	subs, err := s.fs.ReadDir(RepoDir + "/data")
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		ents, err := s.fs.ReadDir(RepoDir + "/data/" + sub.Name)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if _, ok := named[e.Ino]; ok && !strings.HasPrefix(e.Name, tempPrefix) {
				named[e.Ino] = true
			}
		}
	}
	for i, p := range temps {
		var err error
		if named[inos[i]] {
			err = s.fs.RemoveName(p)
		} else {
			err = s.fs.Remove(p)
		}
		if err != nil {
			return fmt.Errorf("removing %s, left by an interrupted backup: %w", p, err)
		}
	}
	s.cleaned = true
	return nil
}
