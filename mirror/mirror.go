package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"travelkit/i18n"
	"travelkit/remote"
	"travelkit/repo"
)

// Options tune a copy.
type Options struct {
	// Connections is the number of files sent at once (default 4).
	Connections int
	// Retries is how often a transient failure (a lost connection, a server error) is
	// retried, with growing pauses (default 8, about four minutes in all).
	Retries int
	// Backoff is the pause before retry n (from 1); default 1s doubling to at most 60s,
	// with some jitter.
	Backoff func(n int) time.Duration
	// Prune removes the files the source does not have (forgotten snapshots, pruned
	// data, replaced keys) from the destination, after the copy. The caller confirms it
	// with the person first.
	Prune bool
	// Progress is called after every file.
	Progress func(Progress)
	// Warn is told about retries and about files the destination refused to remove.
	Warn func(Warning)
}

// Progress is where a copy is.
type Progress struct {
	Phase      string // keys, data, index, snapshots, prune
	FilesTotal int    // files to send, in all phases
	FilesDone  int
	BytesTotal int64 // bytes to send
	BytesDone  int64 // bytes of the files sent so far
}

// Counts are numbers of files and bytes.
type Counts struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// Result says what a copy did.
type Result struct {
	// Sent: files the destination lacked, sent now.
	Sent Counts `json:"sent"`
	// Skipped: files the destination had already (same name and size).
	Skipped Counts `json:"skipped"`
	// Verified: files sent and found intact at the destination afterwards (read back and
	// hashed, or checked by the server on receipt).
	Verified Counts `json:"verified"`
	// Removed: files removed from the destination (Prune).
	Removed Counts `json:"removed"`
	// Kept: files Prune would have removed, but the destination refused (append-only).
	Kept Counts `json:"kept"`
	// ByType counts the files sent by kind (keys, config, data, index, snapshots).
	ByType map[string]int `json:"sent_by_type"`
	// Snapshots is the number of snapshots at the destination afterwards.
	Snapshots int `json:"snapshots"`
}

// ErrDamagedSource says a file of the source does not match its name.
var ErrDamagedSource = errors.New("a file of the source repository is damaged")

// ErrDamagedCopy says a file at the destination does not match the source.
var ErrDamagedCopy = errors.New("a file at the destination is damaged")

// ErrPruneRefused says the destination refused to remove files (an append-only server).
var ErrPruneRefused = errors.New("the destination refused to remove files")

type summer interface {
	Sum(ctx context.Context, h repo.Handle) ([32]byte, int64, error)
}

type file struct {
	h    repo.Handle
	size int64
}

// copier is one copy in progress.
type copier struct {
	src, dst repo.Storage
	opt      Options
	res      Result
	mu       sync.Mutex
	prog     Progress
}

// Copy mirrors the repository src to dst. dst is locked (shared; exclusive with Prune)
// for the time of the copy, with a lock restic honours.
func Copy(ctx context.Context, src *repo.Repository, dst repo.Storage, opt Options) (*Result, error) {
	if opt.Connections <= 0 {
		opt.Connections = 4
	}
	if opt.Retries < 0 {
		opt.Retries = 0
	} else if opt.Retries == 0 {
		opt.Retries = 8
	}
	if opt.Backoff == nil {
		opt.Backoff = defaultBackoff
	}
	c := &copier{src: src.Storage(), dst: dst, opt: opt, res: Result{ByType: map[string]int{}}}

	srcCfg, err := c.src.Load(ctx, repo.Handle{Type: repo.ConfigFile}, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the source's config: %w", err)
	}
	var dstCfg []byte
	err = c.retry(ctx, i18n.M("mirror.doing.config"), func() error {
		var err error
		dstCfg, err = dst.Load(ctx, repo.Handle{Type: repo.ConfigFile}, 0, 0)
		if repo.IsNotExist(err) {
			dstCfg, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if dstCfg != nil && !bytes.Equal(dstCfg, srcCfg) {
		return nil, errorf(remote.ErrOtherRepository, "mirror.error.other_repository")
	}
	if dstCfg == nil {
		if cr, ok := dst.(repo.Creator); ok {
			if err := c.retry(ctx, i18n.M("mirror.doing.prepare"), func() error { return cr.Create(ctx) }); err != nil {
				return nil, err
			}
		}
	}
	mirrorRepo := src.On(dst)
	// locks of copies that died with their connection (restic unlock)
	if err := c.retry(ctx, i18n.M("mirror.doing.stale_locks"), func() error {
		_, err := mirrorRepo.RemoveStaleLocks(ctx)
		return err
	}); err != nil && !errors.Is(err, remote.ErrRefused) {
		return nil, err
	}
	var lock *repo.Lock
	if err := c.retry(ctx, i18n.M("mirror.doing.lock"), func() error {
		var err error
		lock, err = mirrorRepo.Lock(ctx, opt.Prune)
		return err
	}); err != nil {
		return nil, err
	}
	defer lock.Unlock()

	// what each side has
	types := []repo.FileType{repo.KeyFile, repo.PackFile, repo.IndexFile, repo.SnapshotFile}
	have := map[repo.FileType]map[string]int64{}
	want := map[repo.FileType][]file{}
	for _, t := range types {
		have[t] = map[string]int64{}
		if err := c.retry(ctx, i18n.M("mirror.doing.list"), func() error {
			return dst.List(ctx, t, func(name string, size int64) error {
				have[t][name] = size
				return nil
			})
		}); err != nil {
			return nil, err
		}
		if err := c.src.List(ctx, t, func(name string, size int64) error {
			want[t] = append(want[t], file{repo.Handle{Type: t, Name: name}, size})
			return nil
		}); err != nil {
			return nil, fmt.Errorf("listing the source: %w", err)
		}
	}

	// the plan: what to send, phase by phase
	type phase struct {
		name  string
		files []file
	}
	var phases []phase
	var damagedAtDst []file
	add := func(name string, t repo.FileType) {
		var send []file
		for _, f := range want[t] {
			size, ok := have[t][f.h.Name]
			switch {
			case !ok:
				send = append(send, f)
			case size == f.size:
				c.res.Skipped.Files++
				c.res.Skipped.Bytes += f.size
			default:
				damagedAtDst = append(damagedAtDst, f)
			}
		}
		// small files first within a phase: the progress moves, and resumes cost little
		sort.Slice(send, func(i, j int) bool { return send[i].h.Name < send[j].h.Name })
		phases = append(phases, phase{name, send})
	}
	add("keys", repo.KeyFile)
	if dstCfg == nil {
		phases = append(phases, phase{"config", []file{{repo.Handle{Type: repo.ConfigFile}, int64(len(srcCfg))}}})
	} else {
		c.res.Skipped.Files++
		c.res.Skipped.Bytes += int64(len(srcCfg))
	}
	add("data", repo.PackFile)
	add("index", repo.IndexFile)
	add("snapshots", repo.SnapshotFile)
	if len(damagedAtDst) > 0 {
		if !opt.Prune {
			f := damagedAtDst[0]
			return nil, errorf(ErrDamagedCopy, "mirror.error.damaged_copy", f.h.String(), strconv.FormatInt(have[f.h.Type][f.h.Name], 10),
				strconv.FormatInt(f.size, 10), len(damagedAtDst)-1, "--prune-remote")
		}
		for _, f := range damagedAtDst {
			if err := c.retry(ctx, i18n.M("mirror.doing.remove", f.h.String()), func() error { return dst.Remove(ctx, f.h) }); err != nil {
				return nil, errorf(ErrDamagedCopy, "mirror.error.not_replaced", f.h.String(), err)
			}
			c.res.Removed.Files++
			for i := range phases {
				if phases[i].name == phaseOf(f.h.Type) {
					phases[i].files = append(phases[i].files, f)
				}
			}
		}
	}
	for _, p := range phases {
		c.prog.FilesTotal += len(p.files)
		for _, f := range p.files {
			c.prog.BytesTotal += f.size
		}
	}
	for _, p := range phases {
		c.mu.Lock()
		c.prog.Phase = p.name
		c.mu.Unlock()
		c.report()
		if err := c.sendAll(ctx, p.files, srcCfg); err != nil {
			var ns *remote.NoSpaceError
			if errors.As(err, &ns) { // the room the whole copy lacks, not one file's
				c.mu.Lock()
				ns.Left = c.prog.BytesTotal - c.res.Sent.Bytes
				c.mu.Unlock()
			}
			return &c.res, err
		}
	}

	var pruneErr error
	if opt.Prune {
		c.mu.Lock()
		c.prog.Phase = "prune"
		c.mu.Unlock()
		c.report()
		// snapshots first, data last: no snapshot ever points at removed data
		for _, t := range []repo.FileType{repo.SnapshotFile, repo.IndexFile, repo.PackFile, repo.KeyFile} {
			mine := map[string]bool{}
			for _, f := range want[t] {
				mine[f.h.Name] = true
			}
			var names []string
			for n := range have[t] {
				if !mine[n] {
					names = append(names, n)
				}
			}
			sort.Strings(names)
			for _, n := range names {
				h := repo.Handle{Type: t, Name: n}
				err := c.retry(ctx, i18n.M("mirror.doing.remove", h.String()), func() error { return dst.Remove(ctx, h) })
				switch {
				case err == nil || repo.IsNotExist(err):
					c.res.Removed.Files++
					c.res.Removed.Bytes += have[t][n]
				case errors.Is(err, remote.ErrRefused):
					c.res.Kept.Files++
					c.res.Kept.Bytes += have[t][n]
					if pruneErr == nil {
						pruneErr = fmt.Errorf("%w: %v", ErrPruneRefused, err)
					}
				default:
					return &c.res, err
				}
			}
			if pruneErr != nil && t == repo.SnapshotFile {
				// an append-only server: it keeps every snapshot, so it needs all the data
				c.warn(Warning{What: i18n.M("mirror.notice.keeps_all")})
				break
			}
		}
	}
	n := 0
	if err := c.retry(ctx, i18n.M("mirror.doing.list_snapshots"), func() error {
		n = 0
		return dst.List(ctx, repo.SnapshotFile, func(string, int64) error { n++; return nil })
	}); err == nil {
		c.res.Snapshots = n
	}
	return &c.res, pruneErr
}

func phaseOf(t repo.FileType) string {
	switch t {
	case repo.KeyFile:
		return "keys"
	case repo.PackFile:
		return "data"
	case repo.IndexFile:
		return "index"
	}
	return "snapshots"
}

func defaultBackoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	d = min(d, time.Minute)
	return d + rand.N(d/4+1)
}

func (c *copier) warn(w Warning) {
	if c.opt.Warn != nil {
		c.opt.Warn(w)
	}
}

func (c *copier) report() {
	if c.opt.Progress == nil {
		return
	}
	c.mu.Lock()
	p := c.prog
	c.mu.Unlock()
	c.opt.Progress(p)
}

// GaveUpError is the last error of a file that failed every try (Tries in all; the
// pauses between them were reported as Warnings).
type GaveUpError struct {
	Tries int
	Err   error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("%v (gave up after %d tries)", e.Err, e.Tries)
}

func (e *GaveUpError) Unwrap() error { return e.Err }

// retry runs f again after a pause while it fails with a transient error.
func (c *copier) retry(ctx context.Context, what i18n.Message, f func() error) error {
	for n := 0; ; n++ {
		err := f()
		if err == nil || !remote.Transient(err) || n >= c.opt.Retries || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil && n > 0 {
				return &GaveUpError{Tries: n + 1, Err: err}
			}
			return err
		}
		d := c.opt.Backoff(n + 1)
		c.warn(Warning{What: what, Err: err, Wait: d})
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// sendAll sends files with opt.Connections workers; it returns when all are done or the
// first fails (the others then stop).
func (c *copier) sendAll(ctx context.Context, files []file, cfg []byte) error {
	if len(files) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan file)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for i := 0; i < min(c.opt.Connections, len(files)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for f := range work {
				var err error
				buf, err = c.send(ctx, f, buf, cfg)
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// send copies one file: read it, check it against its name, save it, check the copy.
func (c *copier) send(ctx context.Context, f file, buf []byte, cfg []byte) ([]byte, error) {
	var data []byte
	var sum [32]byte
	if f.h.Type == repo.ConfigFile {
		data = cfg
		sum = sha256.Sum256(cfg)
	} else {
		if int64(cap(buf)) < f.size {
			buf = make([]byte, f.size)
		}
		data = buf[:f.size]
		var err error
		if rr, ok := c.src.(repo.RangeReader); ok {
			err = rr.ReadAt(ctx, f.h, data, 0)
		} else {
			var b []byte
			if b, err = c.src.Load(ctx, f.h, 0, 0); err == nil {
				data = b
			}
		}
		if err != nil {
			return buf, fmt.Errorf("reading %s from the source: %w", f.h, err)
		}
		if sum = sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.h.Name {
			return buf, errorf(ErrDamagedSource, "mirror.error.damaged_source", f.h.String(), "travelkit check --read-data")
		}
	}
	verifiedBySave := false
	if sv, ok := c.dst.(remote.SaveVerifier); ok && sv.SaveVerifies() {
		verifiedBySave = true
	}
	save := func() error { return c.dst.Save(ctx, f.h, data) }
	if ss, ok := c.dst.(remote.SumSaver); ok {
		save = func() error { return ss.SaveSum(ctx, f.h, data, sum) }
	}
	err := c.retry(ctx, i18n.M("mirror.doing.send", f.h.String()), func() error {
		err := save()
		if err != nil && remote.Transient(err) {
			// it may have arrived all the same, just before the connection died
			if size, serr := c.dst.Stat(ctx, f.h); serr == nil && size == int64(len(data)) {
				if verr := c.verify(ctx, f.h, sum, int64(len(data))); verr == nil {
					return nil
				}
			}
		}
		if err != nil {
			return err
		}
		if verifiedBySave {
			return nil
		}
		return c.verify(ctx, f.h, sum, int64(len(data)))
	})
	if err != nil {
		return buf, err
	}
	c.mu.Lock()
	c.res.Sent.Files++
	c.res.Sent.Bytes += int64(len(data))
	c.res.Verified.Files++
	c.res.Verified.Bytes += int64(len(data))
	c.res.ByType[string(f.h.Type)]++
	c.prog.FilesDone++
	c.prog.BytesDone += int64(len(data))
	c.mu.Unlock()
	c.report()
	return buf, nil
}

// verify has the destination's copy of a file hashed (by the server, or read back) and
// compares it with the sha256 and size of what was sent. A mismatch is transient: the
// file is sent again (removed first where it can be).
func (c *copier) verify(ctx context.Context, h repo.Handle, want [32]byte, wantSize int64) error {
	var got [32]byte
	var size int64
	if s, ok := c.dst.(summer); ok {
		var err error
		if got, size, err = s.Sum(ctx, h); err != nil {
			return err
		}
	} else {
		b, err := c.dst.Load(ctx, h, 0, 0)
		if err != nil {
			return err
		}
		got, size = sha256.Sum256(b), int64(len(b))
	}
	if got != want || size != wantSize {
		_ = c.dst.Remove(ctx, h)
		return fmt.Errorf("%w: %s read back from the destination differs from what was sent (%d of %d bytes)", errMismatch, h, size, wantSize)
	}
	return nil
}

var errMismatch = remote.MarkTransient(errors.New("copy check failed"))
