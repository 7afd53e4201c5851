package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"travelkit/internal/beneath"
	"travelkit/internal/bytesize"
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
	// Warn is called for every entry that could not be restored, one call at a time.
	Warn func(path string, err error)
	// Progress is called about once a second and at the end.
	Progress func(RestoreProgress)
	// TargetOS (a GOOS value, default this system) decides which names the
	// target can hold; others are restored under SafeName and listed in
	// RestoreResult.Renamed.
	TargetOS string
	// KeepSetuid restores setuid and setgid bits; without it they are dropped,
	// so that a snapshot cannot plant a program that runs with its owner's rights.
	KeepSetuid bool
	// Planned, when set, is called once the snapshot has been counted, before anything
	// is made or written (the target folder included); an error it returns ends the
	// restore with that error. Until then the restore only reads the repository.
	Planned func() error
	// Owner, when set, owns every restored entry instead of the snapshot's owners (only
	// where owners are set at all: running as root on Unix). A restore run with
	// administrator rights on behalf of a person (the wizard, relaunched through pkexec or
	// sudo) leaves their files theirs.
	Owner *Owner
}

// Owner is a user and group to own restored files.
type Owner struct{ UID, GID int }

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
	// Renamed lists entries restored under another name (the first maxRenamedListed;
	// RenamedCount counts them all).
	Renamed      []Renamed
	RenamedCount int
}

// ErrExists is wrapped by errors about files that already exist at the target.
var ErrExists = errors.New("already exists; restore refuses to overwrite")

// ErrTooLarge is wrapped by errors about a repository structure larger than travelkit
// reads: it bounds memory and time whatever a repository holds.
var ErrTooLarge = errors.New("too large")

// ErrNoRoom is wrapped by a refusal to restore more than the target has room for.
var ErrNoRoom = errors.New("not enough room at the target")

// What a restore warns about, besides the errors of the file system (Warn's err), for a
// person to read in their language (cmd's packageErrors); the English is unchanged.
var (
	// ErrNoSubtree: a folder of the snapshot has no listing (a damaged or crafted tree).
	ErrNoSubtree = errors.New("folder without subtree")
	// ErrFolderNotCreated: an entry whose folder could not be created (that folder's own
	// warning says why).
	ErrFolderNotCreated = errors.New("its folder could not be created")
	// ErrLinkTargetFailed: a hard link to a file that was not restored.
	ErrLinkTargetFailed = errors.New("hard link to a file that could not be restored")
)

// MissingBlobError: a file's data blob is not in the repository's index (a damaged
// repository); the file is not restored.
type MissingBlobError struct{ ID string } // short ID

func (e *MissingBlobError) Error() string { return fmt.Sprintf("data blob %s not in index", e.ID) }

// SizeMismatchError: a restored file's size is not the size its snapshot recorded.
type SizeMismatchError struct {
	Size     int64  // restored
	Recorded uint64 // in the snapshot
}

func (e *SizeMismatchError) Error() string {
	return fmt.Sprintf("size %d differs from the recorded %d", e.Size, e.Recorded)
}

// Bounds on what a snapshot may ask of a restore, ls or check: each stops a crafted
// repository from exhausting memory or time.
const (
	// MaxPathLen bounds a path inside a snapshot (PATH_MAX on Linux): deeper entries are
	// not restored, and deep nesting cannot grow path strings without limit.
	MaxPathLen = 4096
	// maxTreeStack bounds the tree bytes held along one path while walking depth first.
	maxTreeStack = 128 << 20
	// maxPlanVisits bounds the entries the restore plan examines: a snapshot of folders
	// repeated in folders (a DAG) expands exponentially; legitimate snapshots are
	// counted once per distinct folder.
	maxPlanVisits = 100_000_000
	// maxRenamedListed bounds the renamed entries kept for the summary.
	maxRenamedListed = 1000
	// maxRestoreWorkers bounds the blob buffers held at once (two per worker).
	maxRestoreWorkers = 12
	// restoreKeep is the largest blob a restore worker reads into its own heap buffers
	// (one for the stored bytes, one for the decompressed content, made at this size once);
	// larger ones take the restore's mapped buffers (bigPool), of which at most one per
	// core (at least two) are out at once. With the worker's buffers at keepScratch (2 MiB)
	// and the pool not bounded, a 1 GiB restore's peak RSS was 64-69 MB, its heap holding
	// 12 MiB of them and the pool 10-20 MiB; at 256 KiB, 53-54 MB (tmpfs, load 15-17),
	// CPU within the noise.
	restoreKeep = 256 << 10
)

// restoredBigPool, set by tests, is shown the pool of a restore once its workers are done.
var restoredBigPool func(*bigPool)

// Renamed records an entry restored under another name because the target
// cannot hold its own.
type Renamed struct {
	SnapshotPath string
	RestoredPath string
}

type restorer struct {
	r     *Repository
	big   bigPool // mapped buffers of big blobs, for any worker's next segment
	ctx   context.Context
	opts  RestoreOptions
	inc   *Patterns
	rules NameRules
	// foldNames: the target takes "File" and "file" for one name
	foldNames bool
	// includes are opts.Include as snapshot paths (C:\Users is /C/Users)
	includes []string
	trees    *treeCache
	chown    bool
	jobs     chan segment
	errs     atomic.Int64
	fdone    atomic.Int64
	bdone    atomic.Int64
	dirs     atomic.Int64
	verOK    atomic.Int64
	total    int64
	files    int64
	stack    int64 // tree bytes held along the current path
	root     *beneath.Dir
	links    map[[2]uint64]*hardLink
	next     []ID               // the subtrees of the tree being walked, to load ahead
	runs     [][]*restoringFile // runs being gathered, oldest first (addToRun)
	ranged   bool               // the storage reads into the caller's buffer (RangeReader)
	keep     int                // the largest blob a worker reads into its own buffers (restoreKeep)
	mu       sync.Mutex         // guards renamed, renCount
	renamed  []Renamed
	renN     int
	warnMu   sync.Mutex // one opts.Warn call at a time
}

// warn counts a failure and hands it to opts.Warn, one call at a time: the workers
// warn concurrently, and callers append to a list or write to a terminal.
func (rs *restorer) warn(path string, err error) {
	rs.errs.Add(1)
	if rs.opts.Warn != nil {
		rs.warnMu.Lock()
		defer rs.warnMu.Unlock()
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
	// system (filepath.Dir of "\\" is "\\" on Windows: it never reached "/")
	for q := p; ; q = path.Dir(q) {
		if rs.inc.Match(q) {
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

// snapshotPathLen is len(joinSnapshotPath(dir, name)).
func snapshotPathLen(dir, name string) int {
	if dir == "/" {
		return 1 + len(name)
	}
	return len(dir) + 1 + len(name)
}

func joinSnapshotPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// Restore writes the snapshot's files below opts.Target. Nothing is written outside it
// or through a link (internal/beneath); the snapshot is counted first, so that a
// snapshot larger than the target's free space (or than travelkit walks) is refused
// before anything is written; then the trees are walked depth first, writing as they go.
func (r *Repository) Restore(ctx context.Context, sn *Snapshot, opts RestoreOptions) (*RestoreResult, error) {
	if opts.Target == "" {
		return nil, errors.New("no target folder given")
	}
	if opts.TargetOS == "" {
		opts.TargetOS = runtime.GOOS
	}
	if err := r.ensureIndex(ctx); err != nil {
		return nil, err
	}
	rs := &restorer{r: r, ctx: ctx, opts: opts, rules: NameRulesFor(opts.TargetOS), trees: newTreeCache(r),
		chown: beneath.IsRoot(), links: map[[2]uint64]*hardLink{}}
	if len(opts.Include) > 0 {
		for _, p := range opts.Include {
			rs.includes = append(rs.includes, SnapshotPath(p))
		}
		inc, err := CompilePatterns(rs.includes)
		if err != nil {
			return nil, fmt.Errorf("invalid include pattern: %w", err)
		}
		rs.inc = inc
	}
	if n := runtime.GOMAXPROCS(0); n > 1 {
		// trees are loaded ahead while the walks need them one after the other
		rs.trees.start(ctx, n)
	}
	defer rs.trees.stop()
	p := &planner{rs: rs, memo: map[ID]planCount{}}
	tot, err := p.count(*sn.Tree, "/", false)
	if err != nil {
		return nil, err
	}
	if opts.Planned != nil {
		if err := opts.Planned(); err != nil {
			return nil, err
		}
	}
	root, err := beneath.Open(opts.Target)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rs.root = root
	rs.foldNames = caseInsensitive(opts.TargetOS) || foldsCase(opts.Target)
	if sp, err := root.Space(); err == nil {
		// every entry takes some room besides its data (an inode, a directory entry):
		// counted at 256 bytes, so that file systems without a fixed number of inodes
		// also refuse a snapshot of billions of empty entries
		if need := satAdd(tot.bytes, tot.entries*256); need > sp.Bytes || tot.entries > 1<<50 {
			return nil, fmt.Errorf("the snapshot's selection holds %d entries and %s of files, and %s has %s free: %w; restore into a folder on a larger disk, or part of it with --include",
				tot.entries, bytesize.Format(satInt64(tot.bytes)), opts.Target, bytesize.Format(satInt64(sp.Bytes)), ErrNoRoom)
		}
		if sp.FilesKnown && tot.entries > sp.Files {
			return nil, fmt.Errorf("the snapshot's selection holds %d entries and the file system of %s has room for %d more: %w; restore part of it with --include",
				tot.entries, opts.Target, sp.Files, ErrNoRoom)
		}
	}
	rs.total, rs.files = satInt64(tot.bytes), satInt64(tot.files)

	start := time.Now()
	var tick func()
	if opts.Progress != nil {
		tick = func() { opts.Progress(rs.progress(start, false)) }
	}
	stopProgress := progressEvery(time.Second, tick)

	_, rs.ranged = r.st.(RangeReader)
	rs.jobs = make(chan segment, 8)
	rs.big.limit = max(2, runtime.GOMAXPROCS(0))
	rs.keep = restoreKeep
	if !mapsBuffers {
		// no pool: the heap serves every blob, and each worker keeps what it has as before
		rs.keep = keepScratch
	}
	var wg sync.WaitGroup
	for i := 0; i < min(runtime.GOMAXPROCS(0)+1, maxRestoreWorkers); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := rs.newWorkerScratch()
			for j := range rs.jobs {
				if j.run != nil {
					rs.writeRun(j.run, ws)
				} else {
					rs.writeSegment(j, ws)
				}
			}
		}()
	}
	// the plan kept the first trees; the walk takes each out as it reads it
	rs.trees.setConsume()
	top := &dirState{dir: root, path: root.Path(), sp: "/"}
	top.pending.Store(1)
	rs.walkDir(top, *sn.Tree, "/", false)
	for len(rs.runs) > 0 {
		rs.flushRun(0)
	}
	close(rs.jobs)
	wg.Wait()
	if restoredBigPool != nil {
		restoredBigPool(&rs.big)
	}
	rs.big.release()
	rs.release(top)
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(rs.progress(start, true))
	}
	sort.Slice(rs.renamed, func(i, j int) bool { return rs.renamed[i].SnapshotPath < rs.renamed[j].SnapshotPath })
	return &RestoreResult{Files: int(rs.fdone.Load()), Dirs: int(rs.dirs.Load()), Bytes: rs.bdone.Load(),
		Errors: int(rs.errs.Load()), Verified: int(rs.verOK.Load()), Renamed: rs.renamed, RenamedCount: rs.renN}, nil
}

func satInt64(v uint64) int64 {
	if v > 1<<62 {
		return 1 << 62
	}
	return int64(v)
}

func (rs *restorer) progress(start time.Time, done bool) RestoreProgress {
	return RestoreProgress{Elapsed: time.Since(start), FilesDone: rs.fdone.Load(), BytesDone: rs.bdone.Load(),
		TotalFiles: rs.files, TotalBytes: rs.total, Done: done}
}

// planCount is what a subtree adds to a restore.
type planCount struct {
	files, entries, bytes uint64
	// cut says that something below was left out for its path length or the tree
	// bytes above it, which depend on where the tree is: such counts are not remembered
	cut bool
}

func (c *planCount) add(o planCount) {
	c.cut = c.cut || o.cut
	c.files = satAdd(c.files, o.files)
	c.entries = satAdd(c.entries, o.entries)
	c.bytes = satAdd(c.bytes, o.bytes)
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// planner counts what a restore will write, remembering fully selected trees by ID (a
// visited set), so that a tree repeated in many places is read once.
type planner struct {
	rs     *restorer
	memo   map[ID]planCount
	visits int
}

// count returns what tree id at snapshot path dir adds; selected says dir is selected
// as a whole (an include matched it or a parent).
func (p *planner) count(id ID, dir string, selected bool) (planCount, error) {
	whole := selected || p.rs.inc == nil
	if c, ok := p.memo[id]; ok && whole {
		return c, nil
	}
	rs := p.rs
	t, size, err := rs.trees.get(rs.ctx, id)
	if err != nil {
		return planCount{}, nil // the restore itself warns about it
	}
	if rs.stack+size > maxTreeStack {
		return planCount{cut: true}, nil
	}
	rs.stack += size
	defer func() { rs.stack -= size }()
	if whole {
		rs.next = rs.next[:0]
		for _, n := range t.Nodes {
			if n.Type == NodeDir && n.Subtree != nil {
				if _, ok := p.memo[*n.Subtree]; !ok {
					rs.next = append(rs.next, *n.Subtree)
				}
			}
		}
		rs.trees.ahead(rs.next)
	}
	var c planCount
	for _, n := range t.Nodes {
		if p.visits++; p.visits > maxPlanVisits {
			return c, fmt.Errorf("the snapshot's folders repeat inside each other more than travelkit walks (%d entries examined); a crafted or damaged repository: %w", maxPlanVisits, ErrTooLarge)
		}
		if err := rs.ctx.Err(); err != nil {
			return c, err
		}
		if snapshotPathLen(dir, n.Name) > MaxPathLen {
			c.cut = true
			continue
		}
		self, below := true, true
		if !whole {
			self, below = rs.included(joinSnapshotPath(dir, n.Name), n.Type == NodeDir)
		}
		switch {
		case n.Type == NodeDir && n.Subtree != nil && (self || below):
			sub, err := p.count(*n.Subtree, joinSnapshotPath(dir, n.Name), self)
			if err != nil {
				return c, err
			}
			if self || sub.entries > 0 {
				c.entries = satAdd(c.entries, 1)
			}
			c.add(sub)
		case !self:
		case n.Type == NodeFile:
			c.files = satAdd(c.files, 1)
			c.entries = satAdd(c.entries, 1)
			for _, b := range n.Content {
				if pb, ok := rs.r.idx.Lookup(BlobHandle{ID: b, Type: DataBlob}); ok {
					// a blob longer than travelkit reads is refused when it is read, so it
					// counts for no more: a crafted length is named as what it is, not
					// taken for a lack of room that sends the person to a larger disk
					c.bytes = satAdd(c.bytes, min(uint64(pb.PlainLength()), uint64(maxBlob(DataBlob))))
				}
			}
		default:
			c.entries = satAdd(c.entries, 1)
		}
	}
	if whole && !c.cut {
		p.memo[id] = c
	}
	return c, nil
}

// dirState is a folder being restored. It stays open while anything in it is pending:
// the walker itself, files being written, folders below; the last one out sets its
// metadata (times must come after the content) and releases its parent.
type dirState struct {
	dir     *beneath.Dir // nil until something is created in it
	parent  *dirState
	name    string // restored name in parent
	path    string // restored path, for messages
	rel     string // restored path below the target, '/'-separated (hard links)
	node    *Node  // nil for the target itself
	sp      string // snapshot path
	pending atomic.Int64
	failed  bool
}

// restoredPath is the restored path of name in ds, for messages.
func (ds *dirState) restoredPath(name string) string {
	return ds.path + string(filepath.Separator) + name
}

// ensure creates the folder (and the parents not yet created) on first use: a folder is
// only made when something selected lies in it. Only the walker calls it.
func (rs *restorer) ensure(ds *dirState) error {
	if ds.dir != nil {
		return nil
	}
	if ds.failed {
		return errors.New("its folder could not be created")
	}
	if err := rs.ensure(ds.parent); err != nil {
		ds.failed = true
		return err
	}
	d, err := ds.parent.dir.Mkdir(ds.name)
	if err != nil {
		ds.failed = true
		rs.warn(ds.path, err)
		return err
	}
	ds.dir = d
	if ds.node != nil && ds.name != ds.node.Name {
		rs.rename(ds.sp, ds.path)
	}
	rs.dirs.Add(1)
	return nil
}

// release drops one reference to ds; the last one finishes the folder.
func (rs *restorer) release(ds *dirState) {
	if ds.pending.Add(-1) != 0 {
		return
	}
	if ds.dir != nil {
		if ds.node != nil {
			if err := ds.dir.SetMeta(ds.parent.dir, ds.name, rs.meta(ds.node)); err != nil {
				rs.warn(ds.path, err)
			}
		}
		if ds.parent != nil {
			ds.dir.Close()
		}
	}
	if ds.parent != nil {
		rs.release(ds.parent)
	}
}

func (rs *restorer) rename(sp, out string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.renN++
	if len(rs.renamed) < maxRenamedListed {
		rs.renamed = append(rs.renamed, Renamed{SnapshotPath: sp, RestoredPath: out})
	}
}

// walkDir restores the entries of tree id (snapshot path dir) into ds, depth first.
func (rs *restorer) walkDir(ds *dirState, id ID, dir string, selected bool) {
	t, size, err := rs.trees.get(rs.ctx, id)
	if err != nil {
		rs.warn(dir, err)
		return
	}
	if rs.stack+size > maxTreeStack {
		rs.warn(dir, fmt.Errorf("the folders above it hold more than %s of listings: %w", bytesize.Format(maxTreeStack), ErrTooLarge))
		return
	}
	rs.stack += size
	defer func() { rs.stack -= size }()
	if selected || rs.inc == nil {
		rs.next = rs.next[:0]
		for _, n := range t.Nodes {
			if n.Type == NodeDir && n.Subtree != nil {
				rs.next = append(rs.next, *n.Subtree)
			}
		}
		rs.trees.ahead(rs.next)
	}
	names := newDistinctNames(rs.rules, rs.foldNames)
	for _, n := range t.Nodes {
		if rs.ctx.Err() != nil {
			return
		}
		// the snapshot path and the restored path of an entry are only made where they
		// are needed (folders, messages, --include): for the files of a restore of many,
		// they were two strings made and collected per file
		if snapshotPathLen(dir, n.Name) > MaxPathLen {
			sp := joinSnapshotPath(dir, n.Name)
			rs.warn(sp[:64]+"...", fmt.Errorf("path longer than %d bytes, not restored: %w", MaxPathLen, ErrTooLarge))
			continue
		}
		self, below := true, true
		if !selected && rs.inc != nil {
			self, below = rs.included(joinSnapshotPath(dir, n.Name), n.Type == NodeDir)
		}
		if !self && !below {
			continue
		}
		if n.Type != NodeDir && !self {
			continue
		}
		// names the target cannot hold ("a/b", "..", "a:b" on Windows) are mapped to
		// safe ones, and names that would land on one file ("File" and "file" on
		// Windows) made distinct; each is listed once written, none dropped
		safe := names.claim(SafeName(n.Name, rs.rules))
		switch n.Type {
		case NodeDir:
			sp := joinSnapshotPath(dir, n.Name)
			if n.Subtree == nil {
				rs.warn(sp, ErrNoSubtree)
				continue
			}
			cs := &dirState{parent: ds, name: safe, path: ds.restoredPath(safe), rel: ds.rel + "/" + safe, node: n, sp: sp}
			cs.pending.Store(1)
			ds.pending.Add(1)
			if self {
				if rs.ensure(cs) != nil {
					rs.release(cs)
					continue
				}
			}
			rs.walkDir(cs, *n.Subtree, sp, self || selected)
			rs.release(cs)
		case NodeFile:
			if rs.ensure(ds) != nil {
				rs.warn(ds.restoredPath(safe), ErrFolderNotCreated)
				continue
			}
			rs.restoreFile(ds, safe, n)
		default:
			if rs.ensure(ds) != nil {
				rs.warn(ds.restoredPath(safe), ErrFolderNotCreated)
				continue
			}
			if err := rs.restoreOther(ds, safe, n); err != nil {
				rs.warn(ds.restoredPath(safe), err)
			} else if safe != n.Name {
				rs.rename(joinSnapshotPath(dir, n.Name), ds.restoredPath(safe))
			}
		}
	}
}

// hardLink is the first restored name of a file with several links; later names are
// linked to it once it is written.
type hardLink struct {
	rel  string // its folder below the target
	name string
	done chan struct{}
	ok   bool
}

func (rs *restorer) restoreFile(ds *dirState, name string, n *Node) {
	if n.Links > 1 {
		out := ds.restoredPath(name)
		k := [2]uint64{n.DeviceID, n.Inode}
		if first, ok := rs.links[k]; ok {
			// wait for the first name's content: its segments are queued already
			<-first.done
			if !first.ok {
				rs.warn(out, ErrLinkTargetFailed)
				return
			}
			if err := rs.link(first, ds, name); err != nil {
				rs.warn(out, err)
			} else if name != n.Name {
				rs.rename(joinSnapshotPath(ds.sp, n.Name), out)
			}
			return
		}
		hl := &hardLink{rel: ds.rel, name: name, done: make(chan struct{})}
		rs.links[k] = hl
		rs.startFile(ds, name, n, hl)
		return
	}
	rs.startFile(ds, name, n, nil)
}

// link makes name in ds a hard link to first, reaching first's folder from the target
// without following links.
func (rs *restorer) link(first *hardLink, ds *dirState, name string) error {
	d := rs.root
	var opened []*beneath.Dir
	defer func() {
		for _, o := range opened {
			o.Close()
		}
	}()
	for _, c := range strings.Split(strings.TrimPrefix(first.rel, "/"), "/") {
		if c == "" {
			continue
		}
		nd, err := d.OpenDir(c)
		if err != nil {
			return err
		}
		opened = append(opened, nd)
		d = nd
	}
	err := ds.dir.Link(d, first.name, name)
	if errors.Is(err, fs.ErrExist) {
		err = fmt.Errorf("%w", ErrExists)
	}
	return err
}

// restoringFile is a file being restored by several segment writers.
type restoringFile struct {
	ds        *dirState
	name      string
	node      *Node
	link      *hardLink
	size      int64
	pb        PackedBlob // its one blob, when it is part of a run (segment.raw)
	segments  int
	once      sync.Once
	fh        *beneath.File
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

// create makes the file, never over an existing one or through a link. The first writer
// of any segment calls it, so creating files runs in parallel too.
func (of *restoringFile) create(verify bool, m beneath.Meta) {
	fh, err := of.ds.dir.CreatePerm(of.name, verify, m.Mode&0o777)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%w", ErrExists)
		}
		of.fail(err)
		return
	}
	if of.segments > 1 {
		if err := preallocate(fh, of.size); err != nil {
			of.fail(err)
		}
	}
	of.fh = fh
}

// segment is a run of consecutive blobs of one file, written at off; or, when run is
// set, files of one blob each whose blobs lie one after the other in one pack.
type segment struct {
	file  *restoringFile
	off   int64
	blobs []ID
	// raw is the stored blob of file (one blob, file.pb), read with the rest of its run
	raw []byte
	run []*restoringFile
}

// A run: the small files of a folder were stored one after the other in a few packs
// (a backup fills several at once), and a restore of many of them read each blob with a
// call of its own (a system call per file, on a VM where each costs microseconds). Files
// of one blob of at most runBlob stored bytes whose blobs follow each other in one pack
// (at most runGap bytes apart) are queued together, up to runFiles files and runBytes
// bytes from the first blob's start, and their blobs read at once by the worker that
// writes them. Up to runsOpen runs, of different packs, are gathered at once.
const (
	runBlob  = 128 << 10
	runBytes = 512 << 10
	runGap   = 16 << 10
	runFiles = 64
	runsOpen = 4
)

// blobsPerSegment bounds the work one writer does on one file at a time, so
// that large files are written by all workers together.
const blobsPerSegment = 4

// startFile queues the segments of a file; the file holds its folder open until done.
func (rs *restorer) startFile(ds *dirState, name string, n *Node, hl *hardLink) {
	of := &restoringFile{ds: ds, name: name, node: n, link: hl}
	content := n.Content
	of.segments = max(1, (len(content)+blobsPerSegment-1)/blobsPerSegment)
	// where each segment starts (one lookup per blob; most files are one segment)
	var offs []int64
	if of.segments > 1 {
		offs = make([]int64, 0, of.segments)
	}
	var off int64
	for i, id := range content {
		if offs != nil && i%blobsPerSegment == 0 {
			offs = append(offs, off)
		}
		pb, ok := rs.r.idx.Lookup(BlobHandle{ID: id, Type: DataBlob})
		if !ok {
			rs.warn(ds.restoredPath(name), &MissingBlobError{ID: id.Str()})
			if hl != nil {
				close(hl.done)
			}
			return
		}
		off += int64(pb.PlainLength())
	}
	of.size = off
	of.remaining.Store(int32(of.segments))
	ds.pending.Add(1)
	if len(content) == 1 && hl == nil {
		if pb, ok := rs.r.idx.Lookup(BlobHandle{ID: content[0], Type: DataBlob}); ok && pb.Length <= runBlob && blobTooLarge(pb) == nil {
			of.pb = pb
			rs.addToRun(of)
			return
		}
	}
	for k := 0; k < of.segments; k++ {
		i := k * blobsPerSegment
		end := min(i+blobsPerSegment, len(content))
		sg := segment{file: of, blobs: content[i:end]}
		if offs != nil {
			sg.off = offs[k]
		}
		rs.jobs <- sg
	}
}

// addToRun adds of (one blob, of.pb) to the run of its pack when its blob follows that
// run's last; else it queues that run, or the oldest when runsOpen are open, and starts
// a new one.
func (rs *restorer) addToRun(of *restoringFile) {
	pb := of.pb
	for i, run := range rs.runs {
		first, last := run[0].pb, run[len(run)-1].pb
		if last.PackID != pb.PackID {
			continue
		}
		end := last.Offset + last.Length
		if len(run) < runFiles && pb.Offset >= end && pb.Offset-end <= runGap &&
			int64(pb.Offset)+int64(pb.Length)-int64(first.Offset) <= runBytes {
			rs.runs[i] = append(run, of)
			return
		}
		rs.flushRun(i)
		break
	}
	if len(rs.runs) == runsOpen {
		rs.flushRun(0)
	}
	rs.runs = append(rs.runs, append(make([]*restoringFile, 0, runFiles), of))
}

// flushRun queues the files of rs.runs[i] and drops it from rs.runs.
func (rs *restorer) flushRun(i int) {
	run := rs.runs[i]
	rs.runs = append(rs.runs[:i], rs.runs[i+1:]...)
	if len(run) == 1 {
		of := run[0]
		of.pb = PackedBlob{}
		rs.jobs <- segment{file: of, blobs: of.node.Content}
		return
	}
	rs.jobs <- segment{run: run}
}

// writeRun reads the blobs of a run at once and writes its files one after the other;
// when that read fails, each file reads its own blob (and names the error itself).
func (rs *restorer) writeRun(run []*restoringFile, ws *workerScratch) {
	first, last := run[0].pb, run[len(run)-1].pb
	start := int64(first.Offset)
	if cap(ws.run) < runBytes {
		// made once, at its largest
		ws.run = make([]byte, 0, runBytes)
	}
	b, err := rs.r.readPackRange(rs.ctx, first.PackID, start, int(int64(last.Offset)+int64(last.Length)-start), &ws.run)
	for _, of := range run {
		sg := segment{file: of, blobs: of.node.Content}
		if err == nil {
			sg.raw = b[int64(of.pb.Offset)-start:][:of.pb.Length]
		}
		rs.writeSegment(sg, ws)
	}
}

// workerScratch is what one restore worker keeps from segment to segment: the heap
// buffers of small blobs, and of the stored blobs of a run.
type workerScratch struct {
	buf, raw, run []byte
}

// newWorkerScratch makes a worker's buffers at their size, so that they need not grow.
func (rs *restorer) newWorkerScratch() *workerScratch {
	return &workerScratch{buf: make([]byte, 0, rs.keep+zstdSlack), raw: make([]byte, 0, rs.keep)}
}

func (rs *restorer) writeSegment(sg segment, ws *workerScratch) {
	of := sg.file
	of.once.Do(func() { of.create(rs.opts.Verify, rs.meta(of.node)) })
	off := sg.off
	var err error
	// a blob larger than the worker's buffer (photos, videos: stored as they are, and
	// decrypted where they were read) is read into memory mapped outside the heap, from
	// the restore's pool (rs.big): allocated on the heap, 30% of a home folder's bytes
	// made the collector run over and over (a fifth of a restore's CPU).
	// The same for the decompressed content of a blob above 2 MiB (texts, documents):
	// made on the heap, such buffers were most of what a restore allocated and made the
	// collector run every few blobs. A blob's buffers are taken together and handed back
	// once it is written, so that the pool's limit bounds them (see bigPool).
	buf := &ws.buf
	for _, id := range sg.blobs {
		if of.fh == nil {
			break
		}
		if rs.ctx.Err() != nil {
			err = rs.ctx.Err()
			break
		}
		scratch, out := &ws.raw, *buf
		var rawN, outN int
		pb, ok := of.pb, sg.raw != nil
		if !ok {
			pb, ok = rs.r.idx.Lookup(BlobHandle{ID: id, Type: DataBlob})
		}
		if ok && mapsBuffers && pb.Length <= maxStoredBlob(DataBlob) && int(pb.PlainLength()) <= maxBlob(DataBlob) {
			if sg.raw == nil && rs.ranged && int(pb.Length) > rs.keep {
				rawN = int(pb.Length)
			}
			if n := int(pb.UncompressedLength) + zstdSlack; pb.UncompressedLength != 0 && n > rs.keep+zstdSlack {
				outN = n
			}
		}
		big, bigOut := rs.big.get2(rawN, outN)
		if big.b != nil {
			scratch = &big.b
		}
		if bigOut.b != nil {
			out = bigOut.b[:0]
		}
		var b []byte
		if sg.raw != nil {
			b, err = rs.r.openBlob(pb, sg.raw, out)
		} else {
			b, err = rs.r.LoadBlobScratch(rs.ctx, DataBlob, id, out, scratch)
		}
		if err == nil && !sameArray(b, *scratch) && !sameArray(b, bigOut.b) && !sameArray(b, sg.raw) {
			*buf = b
		}
		if err == nil {
			err = writePieces(of.fh, b, off)
		}
		// nothing refers to them now: the blob was written from them or from *buf
		rs.big.put(big)
		rs.big.put(bigOut)
		if err != nil {
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
	// a rare large blob's buffers are not kept for the next segment
	if cap(*buf) > rs.keep+zstdSlack {
		*buf = make([]byte, 0, rs.keep+zstdSlack)
	}
	if cap(ws.raw) > rs.keep {
		ws.raw = make([]byte, 0, rs.keep)
	}
}

// writePiece is how much of a blob one write hands the system. Linux's ext4 makes its
// page cache of folios as large as each write (up to 2 MiB), and where free memory is in
// small pieces (a machine whose memory is mostly page cache) every such folio first
// compacts memory: a perf profile of a 1 GiB restore into ext4 had a tenth of its
// samples in the kernel's compaction, and writing 64 KiB at a time cut the restore's
// system time 1.6x (paired runs; 16 KiB the same, 256 KiB less).
const writePiece = 64 << 10

// writePieces writes b at off in pieces of writePiece bytes.
func writePieces(f *beneath.File, b []byte, off int64) error {
	for len(b) > 0 {
		n := min(len(b), writePiece)
		if _, err := f.WriteAt(b[:n], off); err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// finishFile closes a completely written file, checks and verifies it, sets its
// metadata and releases its folder.
func (rs *restorer) finishFile(of *restoringFile, buf *[]byte) {
	defer rs.release(of.ds)
	ok := false
	if of.link != nil {
		defer func() {
			of.link.ok = ok
			close(of.link.done)
		}()
	}
	if of.fh == nil {
		rs.warn(of.ds.restoredPath(of.name), of.err)
		return
	}
	err := of.err
	// the file is new and every write landed: its size is its blobs' (no fstat)
	if err == nil && uint64(of.size) != of.node.Size {
		rs.warn(of.ds.restoredPath(of.name), &SizeMismatchError{Size: of.size, Recorded: of.node.Size})
	}
	if err == nil && rs.opts.Verify {
		if buf == nil {
			buf = new([]byte)
		}
		if err = rs.verify(of, buf); err == nil {
			rs.verOK.Add(1)
		}
	}
	if err == nil {
		err = of.ds.dir.SetNewFileMeta(of.fh, of.name, rs.meta(of.node))
	}
	if cerr := of.fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rs.warn(of.ds.restoredPath(of.name), err)
		return
	}
	ok = true
	rs.fdone.Add(1)
	if of.name != of.node.Name {
		rs.rename(joinSnapshotPath(of.ds.sp, of.node.Name), of.ds.restoredPath(of.name))
	}
}

// verify rereads a restored file through its handle and checks every chunk against its ID.
func (rs *restorer) verify(of *restoringFile, buf *[]byte) error {
	var off int64
	for _, id := range of.node.Content {
		pb, ok := rs.r.idx.Lookup(BlobHandle{ID: id, Type: DataBlob})
		if !ok {
			return fmt.Errorf("verify: blob %s not in index", id.Str())
		}
		n := int(pb.PlainLength())
		if cap(*buf) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		if _, err := of.fh.ReadAt(b, off); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		off += int64(n)
		if Hash(b) != id {
			return errors.New("verify: restored content differs from the snapshot")
		}
	}
	var one [1]byte
	if n, err := of.fh.ReadAt(one[:], off); n != 0 || (err != nil && err != io.EOF) {
		return errors.New("verify: restored file is longer than in the snapshot")
	}
	return nil
}

// ErrDevice is wrapped by the warning about device nodes, which are never restored:
// a crafted snapshot could otherwise plant a raw disk readable by anyone.
var ErrDevice = errors.New("device nodes are never restored")

func (rs *restorer) restoreOther(ds *dirState, name string, n *Node) error {
	switch n.Type {
	case NodeSymlink:
		if err := ds.dir.Symlink(n.LinkTarget, name); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return ErrExists
			}
			return err
		}
		return ds.dir.SetLinkMeta(name, rs.meta(n))
	case NodeFifo:
		err := ds.dir.Mkfifo(name, rs.meta(n))
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return err
	case NodeDev, NodeCharDev:
		return ErrDevice
	}
	return fmt.Errorf("%s entries are not restored", n.Type)
}

// meta is what a restored entry gets of its node: setuid and setgid bits only when asked,
// owners only when running as root.
func (rs *restorer) meta(n *Node) beneath.Meta {
	m := uint32(n.Mode.Perm())
	if n.Mode&os.ModeSticky != 0 {
		m |= 0o1000
	}
	if rs.opts.KeepSetuid {
		if n.Mode&os.ModeSetuid != 0 {
			m |= 0o4000
		}
		if n.Mode&os.ModeSetgid != 0 {
			m |= 0o2000
		}
	}
	uid, gid := int(n.UID), int(n.GID)
	if o := rs.opts.Owner; o != nil {
		uid, gid = o.UID, o.GID
	}
	return beneath.Meta{Mode: m, Chown: rs.chown, UID: uid, GID: gid, Atime: n.AccessTime, Mtime: n.ModTime}
}

// Walk calls fn for every node of the tree id, depth first, with its
// snapshot path. Returning filepath.SkipDir from fn skips a folder's content.
// Paths longer than MaxPathLen are reported as errors, not walked.
func (r *Repository) Walk(ctx context.Context, id ID, dir string, fn func(path string, n *Node) error) error {
	if err := r.ensureIndex(ctx); err != nil {
		return err
	}
	w := &walker{r: r, ctx: ctx, trees: newTreeCache(r), fn: fn}
	return w.walk(id, dir)
}

// maxWalkEntries bounds the entries Walk visits: folders repeated inside each other
// (a DAG) list exponentially many paths.
const maxWalkEntries = 20_000_000

type walker struct {
	r       *Repository
	ctx     context.Context
	trees   *treeCache
	fn      func(string, *Node) error
	stack   int64
	entries int
}

func (w *walker) walk(id ID, dir string) error {
	t, size, err := w.trees.get(w.ctx, id)
	if err != nil {
		return err
	}
	if w.stack+size > maxTreeStack {
		return fmt.Errorf("%s: the folders above it hold more than %s of listings: %w", dir, bytesize.Format(maxTreeStack), ErrTooLarge)
	}
	w.stack += size
	defer func() { w.stack -= size }()
	for _, n := range t.Nodes {
		if w.entries++; w.entries > maxWalkEntries {
			return fmt.Errorf("the snapshot lists more than %d entries (folders repeated inside each other?): %w", maxWalkEntries, ErrTooLarge)
		}
		if err := w.ctx.Err(); err != nil {
			return err
		}
		p := joinSnapshotPath(dir, n.Name)
		if len(p) > MaxPathLen {
			return fmt.Errorf("%s...: path longer than %d bytes: %w", p[:64], MaxPathLen, ErrTooLarge)
		}
		err := w.fn(p, n)
		if err == filepath.SkipDir {
			continue
		}
		if err != nil {
			return err
		}
		if n.Type == NodeDir && n.Subtree != nil {
			if err := w.walk(*n.Subtree, p); err != nil {
				return err
			}
		}
	}
	return nil
}
