package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RestoreOptions configure a restore.
type RestoreOptions struct {
	Target string
	// Include limits the restore to these paths and everything below them:
	// snapshot paths as shown by ls, or paths as typed on this system
	// (C:\Users\amina on Windows is /C/Users/amina, see SnapshotPath).
	// Patterns as for excludes.
	Include []string
	// Verify rereads every restored file and checks its content.
	Verify bool
	// Warn is called for every entry that could not be restored.
	Warn func(path string, err error)
	// Progress is called about once a second and at the end.
	Progress func(RestoreProgress)
	// TargetOS (a GOOS value, default this system) decides which names the
	// target can hold; others are restored under SafeName and listed in
	// RestoreResult.Renamed.
	TargetOS string
}

// RestoreProgress counts restored files and bytes.
type RestoreProgress struct {
	Elapsed    time.Duration
	FilesDone  int64
	BytesDone  int64
	TotalFiles int64
	TotalBytes int64
	Done       bool
}

// RestoreResult summarises a restore.
type RestoreResult struct {
	Files, Dirs int
	Bytes       int64
	Errors      int
	Verified    int
	Renamed     []Renamed
}

// ErrExists is wrapped by errors about files that already exist at the target.
var ErrExists = errors.New("already exists; restore refuses to overwrite")

type restoreFile struct {
	path string
	node *Node
}

type restoreDir struct {
	path string
	node *Node
}

type restorer struct {
	r    *Repository
	ctx  context.Context
	opts RestoreOptions
	inc  *Excluder
	// includes are opts.Include as snapshot paths (C:\Users is /C/Users)
	includes []string
	files    []restoreFile
	dirs     []restoreDir
	links    []restoreFile // hard links to create after the files
	others   []restoreFile // symlinks, fifos
	seen     map[[2]uint64]string
	errs     atomic.Int64
	fdone    atomic.Int64
	bdone    atomic.Int64
	total    int64
	verOK    atomic.Int64
	created  map[string]bool
	// foldNames: the target takes "File" and "file" for one name
	foldNames bool
	outDirs   map[string]string // snapshot folder path -> restored folder
	renamed   []Renamed
}

// Renamed records an entry restored under another name because the target
// cannot hold its own.
type Renamed struct {
	SnapshotPath string
	RestoredPath string
}

func (rs *restorer) warn(path string, err error) {
	rs.errs.Add(1)
	if rs.opts.Warn != nil {
		rs.opts.Warn(path, err)
	}
}

// included reports whether snapshot path p is selected, and whether something
// below it may be.
func (rs *restorer) included(p string, isDir bool) (self, below bool) {
	if rs.inc == nil {
		return true, true
	}
	// p or one of its parents matches; snapshot paths use slashes on every
	// system (filepath.Dir of "\\" is "\\" on Windows: it never reaches "/")
	for q := p; ; q = path.Dir(q) {
		if rs.inc.Excluded(q) {
			return true, true
		}
		if q == "/" || q == "." {
			break
		}
	}
	if !isDir {
		return false, false
	}
	// an include path lies below p
	for _, pat := range rs.includes {
		if strings.HasPrefix(pat, strings.TrimSuffix(p, "/")+"/") || strings.Contains(pat, "*") {
			return false, true
		}
	}
	return false, false
}

// Restore writes the snapshot's files below opts.Target.
func (r *Repository) Restore(ctx context.Context, sn *Snapshot, opts RestoreOptions) (*RestoreResult, error) {
	if opts.Target == "" {
		return nil, errors.New("no target folder given")
	}
	if opts.TargetOS == "" {
		opts.TargetOS = runtime.GOOS
	}
	rs := &restorer{r: r, ctx: ctx, opts: opts, seen: map[[2]uint64]string{}, created: map[string]bool{},
		outDirs: map[string]string{}}
	if len(opts.Include) > 0 {
		for _, p := range opts.Include {
			rs.includes = append(rs.includes, SnapshotPath(p))
		}
		inc, err := NewExcluder(rs.includes)
		if err != nil {
			return nil, fmt.Errorf("invalid include pattern: %w", err)
		}
		rs.inc = inc
	}
	if err := os.MkdirAll(opts.Target, 0o700); err != nil {
		return nil, err
	}
	rs.foldNames = caseInsensitive(opts.TargetOS) || foldsCase(opts.Target)
	if _, err := rs.walk(*sn.Tree, "/"); err != nil {
		return nil, err
	}
	start := time.Now()
	stop := make(chan struct{})
	pdone := make(chan struct{})
	go func() {
		defer close(pdone)
		if opts.Progress == nil {
			return
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				opts.Progress(rs.progress(start, false))
			}
		}
	}()

	// folders first, with private modes until their content is in place
	for _, d := range rs.dirs {
		rs.mkdir(d.path)
	}
	jobs := make(chan segment, 8)
	var wg sync.WaitGroup
	for i := 0; i < runtime.GOMAXPROCS(0)+1; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf, raw []byte
			for j := range jobs {
				rs.writeSegment(j, &buf, &raw)
			}
		}()
	}
	for _, f := range rs.files {
		if ctx.Err() != nil {
			break
		}
		rs.startFile(f, jobs)
	}
	close(jobs)
	wg.Wait()
	close(stop)
	<-pdone
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, l := range rs.links {
		target := rs.seen[[2]uint64{l.node.DeviceID, l.node.Inode}]
		if err := os.Link(target, l.path); err != nil {
			rs.warn(l.path, err)
		}
	}
	for _, o := range rs.others {
		if err := rs.restoreOther(o); err != nil {
			rs.warn(o.path, err)
		}
	}
	// folder metadata last, deepest first
	sort.Slice(rs.dirs, func(i, j int) bool { return len(rs.dirs[i].path) > len(rs.dirs[j].path) })
	for _, d := range rs.dirs {
		if d.node == nil {
			continue
		}
		if err := rs.setMeta(d.path, d.node); err != nil {
			rs.warn(d.path, err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(rs.progress(start, true))
	}
	return &RestoreResult{Files: int(rs.fdone.Load()), Dirs: len(rs.dirs), Bytes: rs.bdone.Load(),
		Errors: int(rs.errs.Load()), Verified: int(rs.verOK.Load()), Renamed: rs.renamed}, nil
}

func (rs *restorer) progress(start time.Time, done bool) RestoreProgress {
	return RestoreProgress{Elapsed: time.Since(start), FilesDone: rs.fdone.Load(), BytesDone: rs.bdone.Load(),
		TotalFiles: int64(len(rs.files)), TotalBytes: rs.total, Done: done}
}

func (rs *restorer) mkdir(p string) {
	if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		if err2 := os.MkdirAll(p, 0o700); err2 != nil {
			rs.warn(p, err)
		}
	}
}

// walk collects what to restore from tree id at snapshot path dir; it
// returns whether anything below was selected.
func (rs *restorer) walk(id ID, dir string) (bool, error) {
	t, err := rs.r.LoadTree(rs.ctx, id)
	if err != nil {
		return false, err
	}
	any := false
	rules := NameRulesFor(rs.opts.TargetOS)
	names := newDistinctNames(rules, rs.foldNames)
	for _, n := range t.Nodes {
		sp := dir + "/" + n.Name
		if dir == "/" {
			sp = "/" + n.Name
		}
		self, below := rs.included(sp, n.Type == NodeDir)
		if !self && !below {
			continue
		}
		// names the target cannot hold ("a/b", "..", "a:b" on Windows) are
		// mapped to safe ones, and names that would land on one file ("File"
		// and "file" on Windows) made distinct; each is listed, none dropped
		safe := names.claim(SafeName(n.Name, rules))
		outDir := rs.outDirs[dir]
		if outDir == "" {
			outDir = rs.opts.Target
		}
		out := filepath.Join(outDir, safe)
		renamedBefore := len(rs.renamed)
		if safe != n.Name {
			rs.renamed = append(rs.renamed, Renamed{SnapshotPath: sp, RestoredPath: out})
		}
		switch n.Type {
		case NodeDir:
			if n.Subtree == nil {
				rs.warn(sp, errors.New("folder without subtree"))
				continue
			}
			i := len(rs.dirs)
			rs.dirs = append(rs.dirs, restoreDir{path: out, node: n})
			rs.outDirs[sp] = out
			sub, err := rs.walk(*n.Subtree, sp)
			if err != nil {
				rs.warn(sp, err)
			}
			if !self && !sub {
				rs.dirs[i].node = nil
				rs.dirs = rs.dirs[:i]
				rs.renamed = rs.renamed[:renamedBefore] // not restored, not listed
				continue
			}
			any = true
		case NodeFile:
			if !self {
				continue
			}
			any = true
			if n.Links > 1 {
				k := [2]uint64{n.DeviceID, n.Inode}
				if _, ok := rs.seen[k]; ok {
					rs.links = append(rs.links, restoreFile{out, n})
					continue
				}
				rs.seen[k] = out
			}
			rs.files = append(rs.files, restoreFile{out, n})
			rs.total += int64(n.Size)
		default:
			if !self {
				continue
			}
			any = true
			rs.others = append(rs.others, restoreFile{out, n})
		}
	}
	return any, nil
}

// restoringFile is a file being restored by several segment writers.
type restoringFile struct {
	f         restoreFile
	size      int64
	segments  int
	once      sync.Once
	fh        *os.File
	remaining atomic.Int32
	mu        sync.Mutex
	err       error
}

func (of *restoringFile) fail(err error) {
	of.mu.Lock()
	if of.err == nil {
		of.err = err
	}
	of.mu.Unlock()
}

// create makes the file, never over an existing one. The first writer of
// any segment calls it, so creating files runs in parallel too.
func (of *restoringFile) create() {
	fh, err := os.OpenFile(of.f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("%w", ErrExists)
		}
		of.fail(err)
		return
	}
	if of.segments > 1 {
		if err := fh.Truncate(of.size); err != nil {
			of.fail(err)
		}
	}
	of.fh = fh
}

// segment is a run of consecutive blobs of one file, written at off.
type segment struct {
	file  *restoringFile
	off   int64
	blobs []ID
}

// blobsPerSegment bounds the work one writer does on one file at a time, so
// that large files are written by all workers together.
const blobsPerSegment = 4

// startFile queues the segments of a file.
func (rs *restorer) startFile(f restoreFile, jobs chan<- segment) {
	of := &restoringFile{f: f}
	content := f.node.Content
	var segs []segment
	var off int64
	for i := 0; i < len(content) || i == 0; i += blobsPerSegment {
		end := min(i+blobsPerSegment, len(content))
		segs = append(segs, segment{file: of, off: off, blobs: content[i:end]})
		for _, id := range content[i:end] {
			pb, ok := rs.r.idx.Lookup(BlobHandle{ID: id, Type: DataBlob})
			if !ok {
				rs.warn(f.path, fmt.Errorf("data blob %s not in index", id.Str()))
				return
			}
			off += int64(pb.PlainLength())
		}
	}
	of.size = off
	of.segments = len(segs)
	of.remaining.Store(int32(len(segs)))
	for _, sg := range segs {
		jobs <- sg
	}
}

func (rs *restorer) writeSegment(sg segment, buf, raw *[]byte) {
	of := sg.file
	of.once.Do(of.create)
	off := sg.off
	var err error
	for _, id := range sg.blobs {
		if of.fh == nil {
			break
		}
		if rs.ctx.Err() != nil {
			err = rs.ctx.Err()
			break
		}
		var b []byte
		b, err = rs.r.LoadBlobScratch(rs.ctx, DataBlob, id, *buf, raw)
		if err != nil {
			break
		}
		*buf = b
		if _, err = of.fh.WriteAt(b, off); err != nil {
			break
		}
		off += int64(len(b))
		rs.bdone.Add(int64(len(b)))
	}
	if err != nil {
		of.fail(err)
	}
	if of.remaining.Add(-1) == 0 {
		rs.finishFile(of, buf)
	}
}

// finishFile closes a completely written file, checks and verifies it and
// sets its metadata.
func (rs *restorer) finishFile(of *restoringFile, buf *[]byte) {
	f := of.f
	if of.fh == nil {
		rs.warn(f.path, of.err)
		return
	}
	err := of.err
	fi, serr := of.fh.Stat()
	if cerr := of.fh.Close(); err == nil {
		err = cerr
	}
	if err == nil && serr == nil && uint64(fi.Size()) != f.node.Size {
		rs.warn(f.path, fmt.Errorf("size %d differs from the recorded %d", fi.Size(), f.node.Size))
	}
	if err == nil && rs.opts.Verify {
		if buf == nil {
			buf = new([]byte)
		}
		if err = rs.verify(f, buf); err == nil {
			rs.verOK.Add(1)
		}
	}
	if err == nil {
		err = rs.setMeta(f.path, f.node)
	}
	if err != nil {
		rs.warn(f.path, err)
		return
	}
	rs.fdone.Add(1)
}

// verify rereads a restored file and checks every chunk against its ID.
func (rs *restorer) verify(f restoreFile, buf *[]byte) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	for _, id := range f.node.Content {
		pb, ok := rs.r.idx.Lookup(BlobHandle{ID: id, Type: DataBlob})
		if !ok {
			return fmt.Errorf("verify: blob %s not in index", id.Str())
		}
		n := int(pb.PlainLength())
		if cap(*buf) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		if _, err := io.ReadFull(fh, b); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if Hash(b) != id {
			return errors.New("verify: restored content differs from the snapshot")
		}
	}
	var one [1]byte
	if n, _ := fh.Read(one[:]); n != 0 {
		return errors.New("verify: restored file is longer than in the snapshot")
	}
	return nil
}

func (rs *restorer) restoreOther(f restoreFile) error {
	if _, err := os.Lstat(f.path); err == nil {
		return ErrExists
	}
	switch f.node.Type {
	case NodeSymlink:
		if err := os.Symlink(f.node.LinkTarget, f.path); err != nil {
			return err
		}
	case NodeFifo:
		if err := mkfifo(f.path, uint32(f.node.Mode.Perm())); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s entries are not restored", f.node.Type)
	}
	return rs.setMeta(f.path, f.node)
}

func fileMode(n *Node) os.FileMode {
	return n.Mode & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
}

func (rs *restorer) setMeta(path string, n *Node) error {
	var errs []error
	if err := restoreOwner(path, n); err != nil {
		errs = append(errs, err)
	}
	if n.Type != NodeSymlink {
		if err := os.Chmod(path, fileMode(n)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := setTimes(path, n); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Walk calls fn for every node of the tree id, depth first, with its
// snapshot path. Returning filepath.SkipDir from fn skips a folder's content.
func (r *Repository) Walk(ctx context.Context, id ID, dir string, fn func(path string, n *Node) error) error {
	t, err := r.LoadTree(ctx, id)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		p := dir + "/" + n.Name
		if dir == "/" {
			p = "/" + n.Name
		}
		err := fn(p, n)
		if err == filepath.SkipDir {
			continue
		}
		if err != nil {
			return err
		}
		if n.Type == NodeDir && n.Subtree != nil {
			if err := r.Walk(ctx, *n.Subtree, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}
