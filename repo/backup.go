package repo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restic/chunker"
)

// BackupOptions configure one backup run.
type BackupOptions struct {
	Paths    []string // files and folders to save; made absolute
	Excludes []string // patterns, see Patterns
	Tags     []string
	Host     string // defaults to os.Hostname
	Time     time.Time
	// Parent is the snapshot whose unchanged files are reused without
	// reading. When nil, the newest snapshot with the same host and paths is used.
	Parent *Snapshot
	// NoParent forces reading every file.
	NoParent bool
	// Warn is called for every file or folder that could not be saved.
	Warn func(path string, err error)
	// Progress is called about once a second and at the end.
	Progress func(BackupProgress)
	// ProgramVersion goes into the snapshot.
	ProgramVersion string
}

// BackupProgress counts what a running backup did.
type BackupProgress struct {
	Elapsed    time.Duration
	FilesDone  int64
	BytesDone  int64
	TotalFiles int64 // from a concurrent scan; grows until ScanDone
	TotalBytes int64
	ScanDone   bool
	Errors     int64
	Done       bool
}

// BackupResult describes a finished backup.
type BackupResult struct {
	Snapshot *Snapshot
	Parent   *ID
	Errors   int // files and folders that could not be read
}

type nodeFuture struct {
	done chan struct{}
	node *Node // nil when the entry was skipped
}

// closedDone is the done channel of every future that is done when made.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func doneFuture(n *Node) *nodeFuture {
	return &nodeFuture{done: closedDone, node: n}
}

type fileJob struct {
	path string
	node *Node
	fut  *nodeFuture
	// changed: the parent snapshot has an older version of the file, whose
	// chunks it likely shares: a long chunk is not streamed (streamLong)
	changed bool
}

type chunkJob struct {
	data []byte
	id   ID
}

type archiver struct {
	r     *Repository
	ctx   context.Context
	ex    *Patterns
	opts  *BackupOptions
	files chan fileJob
	// bigFiles are the files of bigFile bytes or more, which the readers take
	// first: one reader cuts and hashes a file alone, so a large changed file
	// found late (a disk image among the last folders) was the end of an
	// incremental with the other cores idle
	bigFiles chan fileJob
	readW    sync.WaitGroup
	// saves hands a chunk to a saver (one may wait in it), only while some
	// reader has no file (see save); saveW waits for the savers
	saves chan chunkJob
	saveW sync.WaitGroup
	// idleReaders counts the readers waiting for a file or done
	idleReaders atomic.Int32
	cut         *cutter

	errMu    sync.Mutex
	fatalErr error

	filesDone, bytesDone, errs      atomic.Int64
	filesNew, filesChanged, filesUn atomic.Int64
	dirsNew, dirsChanged, dirsUn    atomic.Int64
	scanFiles, scanBytes            atomic.Int64
	scanDone                        atomic.Bool
	// smallBufs hold whole small files (up to chunker.MinSize bytes): one
	// per reader, one per saver and one in the saves channel (see save)
	smallBufs chan []byte
	// chunkBufs are free buffers of chunkBuf bytes. A reader reads a file
	// into one and grows it for the rare longer chunk; most chunks need no
	// 8 MiB buffer.
	// Up to workers+2 are kept for reuse: with one, a 1 GiB first backup
	// made ~200 new 2 MiB buffers (400 MB of garbage to clear, fault in
	// and collect); reused, its CPU time was 0.94x and its peak RSS the
	// same (the garbage they replace counted in the heap as much).
	chunkBufs chan []byte
	// bigBufs hold the buffers of chunkMax bytes a reader moves a chunk into
	// when it outgrows its chunk buffer (a chunk of more than 2 MiB: one in
	// five of random data, every one in a run of zeros). Their number is
	// fixed and they are reused: growing in steps into new buffers made
	// 2+4+8 MiB of garbage per long chunk, and the heap peaked with it.
	bigBufs chan []byte
	// saveLabels and readLabels label a reader's CPU profile samples while
	// it saves a chunk and otherwise (see save)
	saveLabels, readLabels context.Context
	// walkers bounds the goroutines that walk folders besides the first.
	walkers chan struct{}
}

func (a *archiver) warn(path string, err error) {
	a.errs.Add(1)
	if a.opts.Warn != nil {
		a.opts.Warn(path, err)
	}
}

func (a *archiver) fatal(err error) {
	a.errMu.Lock()
	if a.fatalErr == nil {
		a.fatalErr = err
	}
	a.errMu.Unlock()
}

func (a *archiver) failed() error {
	a.errMu.Lock()
	defer a.errMu.Unlock()
	if a.fatalErr != nil {
		return a.fatalErr
	}
	return a.ctx.Err()
}

// samePaths reports whether two path lists are equal as sets.
func samePaths(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// Backup saves opts.Paths as a new snapshot. The index must be loaded.
// Packs are written first, then the index, then the snapshot, so an
// interrupted backup leaves a consistent repository.
func (r *Repository) Backup(ctx context.Context, opts BackupOptions) (*BackupResult, error) {
	if len(opts.Paths) == 0 {
		return nil, errors.New("nothing to back up: no paths given")
	}
	var paths []string
	for _, p := range opts.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(abs); err != nil {
			return nil, fmt.Errorf("cannot back up %s: %w", p, err)
		}
		paths = append(paths, abs)
	}
	sort.Strings(paths)
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	ex, err := CompilePatterns(opts.Excludes)
	if err != nil {
		return nil, fmt.Errorf("invalid exclude pattern: %w", err)
	}
	parent := opts.Parent
	if parent == nil && !opts.NoParent {
		all, err := r.Snapshots(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range all {
			if s.Hostname == opts.Host && samePaths(s.Paths, paths) && !s.Time.After(opts.Time) {
				parent = s
			}
		}
	}

	// an index loaded for this backup (IndexForBackup) lacks the places of
	// data blobs: it is loaded again in full when next used
	defer func() {
		if r.idxForBackup.Swap(false) {
			r.idxLoaded.Store(false)
		}
	}()
	// what is stored already is known from the index (after an earlier
	// backup in this process, it is loaded again: see startSaving)
	if err := r.ensureIndex(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	// files: up to 256 files found and not yet read (a few hundred bytes each),
	// so that an incremental's walk gets past the many small changed files to
	// the large ones (bigFiles) while the readers work; with 64 it waited for
	// the readers before reaching a 123 MiB disk image near the end
	a := &archiver{r: r, ctx: ctx, ex: ex, opts: &opts, cut: newCutter(chunker.Pol(r.cfg.ChunkerPolynomial)),
		files: make(chan fileJob, 256), bigFiles: make(chan fileJob, 16), saves: make(chan chunkJob, 1),
		smallBufs: make(chan []byte, 2*workers), chunkBufs: make(chan []byte, workers+2),
		bigBufs: make(chan []byte, max(1, workers/4)),
		walkers: make(chan struct{}, 2*workers)}
	a.readLabels = pprof.WithLabels(ctx, pprof.Labels("stage", "read"))
	a.saveLabels = pprof.WithLabels(ctx, pprof.Labels("stage", "save"))
	for i := 0; i < cap(a.smallBufs); i++ {
		a.smallBufs <- nil
	}
	for i := 0; i < cap(a.bigBufs); i++ {
		a.bigBufs <- nil
	}
	start := time.Now()
	// one uploader hashes and writes a 16 MiB pack in about the time the
	// other cores fill one; what is saved is kept compact (knownSet)
	r.startSaving(ctx, max(1, workers/4), true)
	// stages are labelled for CPU profiles: walk (list folders, stat,
	// trees), read (read, chunk, hash), save (compress, encrypt), upload
	// (hash and write packs)
	for i := 0; i < workers; i++ {
		a.readW.Add(1)
		go func() {
			pprof.SetGoroutineLabels(a.readLabels)
			a.reader()
		}()
	}
	for i := 1; i < workers; i++ {
		a.saveW.Add(1)
		go pprof.Do(ctx, pprof.Labels("stage", "save"), func(context.Context) { a.saver() })
	}
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("stage", "walk")))
	defer pprof.SetGoroutineLabels(ctx)
	if opts.Progress != nil {
		// totals for the progress display only: nobody watching, no second walk
		go a.scan(paths)
	}
	var tick func()
	if opts.Progress != nil {
		tick = func() { opts.Progress(a.progress(start, false)) }
	}
	stopProgress := progressEvery(time.Second, tick)

	var parentTree *ID
	if parent != nil {
		parentTree = parent.Tree
	}
	rootFut := a.saveVirtual(buildVirtual(paths), parentTree)
	<-rootFut.done // every folder waits for its files, so all are read
	close(a.files)
	close(a.bigFiles)
	a.readW.Wait()
	close(a.saves)
	a.saveW.Wait()
	<-rootFut.done
	stopProgress()
	if err := a.failed(); err != nil {
		r.Abort()
		return nil, err
	}
	if rootFut.node == nil || rootFut.node.Subtree == nil {
		r.Abort()
		return nil, errors.New("backup failed: no tree was saved")
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	dataBlobs, treeBlobs, added, stored := r.saverStats()
	sn := &Snapshot{
		Time: opts.Time, Tree: rootFut.node.Subtree, Paths: paths, Hostname: opts.Host,
		Tags: opts.Tags, Excludes: opts.Excludes, ProgramVersion: opts.ProgramVersion,
	}
	if u, err := user.Current(); err == nil {
		sn.Username = u.Username
		if v, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			sn.UID = uint32(v)
		}
		if v, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			sn.GID = uint32(v)
		}
	}
	res := &BackupResult{Errors: int(a.errs.Load())}
	if parent != nil {
		id := parent.ID
		sn.Parent = &id
		res.Parent = &id
	}
	sn.Summary = &SnapshotSummary{
		BackupStart: start, BackupEnd: time.Now(),
		FilesNew: uint(a.filesNew.Load()), FilesChanged: uint(a.filesChanged.Load()),
		FilesUnmodified: uint(a.filesUn.Load()), DirsNew: uint(a.dirsNew.Load()),
		DirsChanged: uint(a.dirsChanged.Load()), DirsUnmodified: uint(a.dirsUn.Load()),
		DataBlobs: dataBlobs, TreeBlobs: treeBlobs, DataAdded: uint64(added), DataAddedPacked: uint64(stored),
		TotalFilesProcessed: uint(a.filesDone.Load()), TotalBytesProcessed: uint64(a.bytesDone.Load()),
	}
	if err := r.SaveSnapshot(ctx, sn); err != nil {
		return nil, err
	}
	res.Snapshot = sn
	if opts.Progress != nil {
		opts.Progress(a.progress(start, true))
	}
	return res, nil
}

func (a *archiver) progress(start time.Time, done bool) BackupProgress {
	return BackupProgress{Elapsed: time.Since(start), FilesDone: a.filesDone.Load(), BytesDone: a.bytesDone.Load(),
		TotalFiles: a.scanFiles.Load(), TotalBytes: a.scanBytes.Load(), ScanDone: a.scanDone.Load(),
		Errors: a.errs.Load(), Done: done}
}

// scan counts files and bytes for progress and ETA.
func (a *archiver) scan(paths []string) {
	defer a.scanDone.Store(true)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
		case fi.Mode().IsRegular():
			a.scanFiles.Add(1)
			a.scanBytes.Add(fi.Size())
		case fi.IsDir():
			a.scanDir(p)
		}
	}
}

// scanDir counts what folder path holds, listing folders as the backup does (listDir:
// their access times stay).
func (a *archiver) scanDir(path string) {
	ents, _ := listDir(path)
	for _, e := range ents {
		if a.ctx.Err() != nil {
			return
		}
		p := filepath.Join(path, e.name)
		if a.ex.Match(p) || e.err != nil {
			continue
		}
		switch {
		case e.fi.Mode().IsRegular():
			a.scanFiles.Add(1)
			a.scanBytes.Add(e.fi.Size())
		case e.fi.IsDir():
			a.scanDir(p)
		}
	}
}

// vdir is the part of the tree above the backed-up paths.
type vdir struct {
	children map[string]*vdir
	path     string // the folder or file on this system
	leaf     bool
}

// buildVirtual arranges the backed-up paths as restic does (see pathSteps):
// on Windows, C:\Users\amina is /C/Users/amina in the snapshot.
func buildVirtual(paths []string) *vdir {
	root := &vdir{children: map[string]*vdir{}, path: string(filepath.Separator)}
	for _, p := range paths {
		v := root
		for _, s := range pathSteps(p) {
			n := v.children[s.name]
			if n == nil {
				n = &vdir{children: map[string]*vdir{}, path: s.osPath}
				v.children[s.name] = n
			}
			v = n
		}
		v.leaf = true
	}
	return root
}

// parentNodes are the nodes of a parent tree sorted by name, looked up in
// ascending name order (a folder's entries are listed sorted): a merge, no
// map per folder.
type parentNodes struct {
	nodes []*Node
	i     int
}

// find returns the node named name, or nil; names must come in ascending
// order.
func (p *parentNodes) find(name string) *Node {
	if p == nil {
		return nil
	}
	for p.i < len(p.nodes) && p.nodes[p.i].Name < name {
		p.i++
	}
	if p.i < len(p.nodes) && p.nodes[p.i].Name == name {
		return p.nodes[p.i]
	}
	return nil
}

func (a *archiver) loadParentTree(id *ID) *parentNodes {
	if id == nil {
		return nil
	}
	t, err := a.r.LoadTree(a.ctx, *id)
	if err != nil {
		return nil
	}
	// trees are written sorted; one that is not (crafted) is sorted here,
	// the first of equal names wins
	sorted := func(i, j int) bool { return t.Nodes[i].Name < t.Nodes[j].Name }
	if !sort.SliceIsSorted(t.Nodes, sorted) {
		sort.SliceStable(t.Nodes, sorted)
	}
	return &parentNodes{nodes: t.Nodes}
}

// saveVirtual saves the folders leading to the backed-up paths.
func (a *archiver) saveVirtual(v *vdir, parentTree *ID) *nodeFuture {
	if v.leaf && v.path == string(filepath.Separator) {
		// the whole file system: the root folder's entries form the snapshot's tree
		fi, err := os.Lstat(v.path)
		if err != nil {
			a.fatal(err)
			return doneFuture(nil)
		}
		var parent *Node
		if parentTree != nil {
			parent = &Node{Type: NodeDir, Subtree: parentTree}
		}
		f := &nodeFuture{done: make(chan struct{})}
		go func() {
			defer close(f.done)
			f.node = a.saveDir(v.path, a.nodeFromInfo(v.path, fi), parentTree, parent)
		}()
		return f
	}
	pm := a.loadParentTree(parentTree)
	names := make([]string, 0, len(v.children))
	for n := range v.children {
		names = append(names, n)
	}
	sort.Strings(names)
	var futs []*nodeFuture
	for _, name := range names {
		c := v.children[name]
		p := c.path
		pn := pm.find(name)
		if c.leaf {
			fi, err := os.Lstat(p)
			if err != nil {
				a.warn(p, err)
				continue
			}
			// a volume's root (C:\) has no name of its own: it is "C"
			futs = append(futs, a.saveEntry(p, namedInfo{fi, name}, pn))
			continue
		}
		// a folder on the way to a backed-up path; follow it if it is a
		// symlink (/tmp on macOS), it is stored as a folder
		fi, err := os.Stat(p)
		if err != nil {
			a.warn(p, err)
			continue
		}
		node := a.nodeFromInfo(p, fi)
		node.Name = name
		var pst *ID
		if pn != nil && pn.Type == NodeDir {
			pst = pn.Subtree
		}
		sub := a.saveVirtual(c, pst)
		futs = append(futs, a.finishDir(node, []*nodeFuture{sub}, true, pn))
	}
	root := &Node{Name: "", Type: NodeDir}
	return a.finishDir(root, futs, false, nil)
}

// finishDir waits for the children in a goroutine, then saves the tree and
// completes the folder node. When single is set, futs holds one future whose
// node already is the complete subtree holder (used by saveVirtual).
func (a *archiver) finishDir(node *Node, futs []*nodeFuture, single bool, parent *Node) *nodeFuture {
	f := &nodeFuture{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		if single {
			<-futs[0].done
			if futs[0].node == nil {
				return
			}
			node.Subtree = futs[0].node.Subtree
			f.node = node
			return
		}
		f.node = a.saveTree(node, futs, parent)
	}()
	return f
}

// saveTree waits for the children, saves the folder's tree and returns the
// completed folder node, or nil after a failure.
func (a *archiver) saveTree(node *Node, futs []*nodeFuture, parent *Node) *Node {
	t := &Tree{Nodes: make([]*Node, 0, len(futs))}
	for _, c := range futs {
		<-c.done
		if c.node != nil {
			t.Nodes = append(t.Nodes, c.node)
		}
	}
	if a.failed() != nil {
		return nil
	}
	id, err := a.r.SaveTree(t)
	if err != nil {
		a.fatal(err)
		return nil
	}
	switch {
	case parent == nil:
		a.dirsNew.Add(1)
	case parent.Subtree != nil && *parent.Subtree == id:
		a.dirsUn.Add(1)
	default:
		a.dirsChanged.Add(1)
	}
	node.Subtree = &id
	return node
}

func (a *archiver) nodeFromInfo(path string, fi os.FileInfo) *Node {
	n := &Node{Name: fi.Name(), ModTime: fi.ModTime(),
		Mode: fi.Mode() & (os.ModePerm | os.ModeType | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		n.Type = NodeFile
		n.Size = uint64(fi.Size())
	case m.IsDir():
		n.Type = NodeDir
	case m&os.ModeSymlink != 0:
		n.Type = NodeSymlink
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice != 0:
		n.Type = NodeCharDev
	case m&os.ModeDevice != 0:
		n.Type = NodeDev
	case m&os.ModeNamedPipe != 0:
		n.Type = NodeFifo
	case m&os.ModeSocket != 0:
		n.Type = NodeSocket
	default:
		n.Type = NodeIrregular
	}
	statNode(n, fi)
	return n
}

// saveEntry saves one file-system entry found at path.
func (a *archiver) saveEntry(path string, fi os.FileInfo, parent *Node) *nodeFuture {
	node := a.nodeFromInfo(path, fi)
	switch node.Type {
	case NodeDir:
		var pst *ID
		if parent != nil && parent.Type == NodeDir {
			pst = parent.Subtree
		}
		// depth first, so that memory holds the open folders of each walker
		// and not the whole tree; a subfolder gets a walker of its own when
		// one is free, else it is listed right here. Either way the walk goes
		// on once the folder is listed: the wait for its files to be read and
		// its tree to be saved does not hold a walker (finishTree). Before, a
		// walker waited for them, and with every walker waiting the walk
		// stopped behind one large changed file while the other readers had
		// nothing to read (a 1 GiB incremental's trace: 50 ms on one core
		// behind a 34 MiB mailbox, more behind a 123 MiB disk image)
		select {
		case a.walkers <- struct{}{}:
			f := &nodeFuture{done: make(chan struct{})}
			go func() {
				defer close(f.done)
				futs, ok := a.listSubdir(path, node, pst, parent)
				<-a.walkers
				if ok {
					f.node = a.saveTree(node, futs, parent)
				} else {
					f.node = futs[0].node
				}
			}()
			return f
		default:
			futs, ok := a.listSubdir(path, node, pst, parent)
			if !ok {
				return futs[0]
			}
			return a.finishTree(node, futs, parent)
		}
	case NodeSymlink:
		t, err := os.Readlink(path)
		if err != nil {
			a.warn(path, err)
			return doneFuture(nil)
		}
		node.LinkTarget = t
		return doneFuture(node)
	case NodeFile:
		if parent != nil && parent.Type == NodeFile && parent.Size == node.Size &&
			parent.ModTime.Equal(node.ModTime) && parent.ChangeTime.Equal(node.ChangeTime) &&
			parent.Inode == node.Inode && a.allKnown(parent.Content) {
			node.Content = parent.Content
			a.filesUn.Add(1)
			a.filesDone.Add(1)
			a.bytesDone.Add(int64(node.Size))
			return doneFuture(node)
		}
		if parent != nil {
			a.filesChanged.Add(1)
		} else {
			a.filesNew.Add(1)
		}
		f := &nodeFuture{done: make(chan struct{})}
		files := a.files
		if node.Size >= bigFile {
			files = a.bigFiles
		}
		select {
		case files <- fileJob{path: path, node: node, fut: f, changed: parent != nil}:
		case <-a.ctx.Done():
			close(f.done)
		}
		return f
	}
	return doneFuture(node)
}

func (a *archiver) allKnown(ids []ID) bool {
	for _, id := range ids {
		if !a.r.Known(BlobHandle{ID: id, Type: DataBlob}) {
			return false
		}
	}
	return true
}

// saveDir lists a folder, saves what it holds and then its tree, and
// returns its node (nil when it could not be saved) once the whole subtree
// is in the repository.
func (a *archiver) saveDir(path string, node *Node, parentTree *ID, parent *Node) *Node {
	futs, ok := a.listSubdir(path, node, parentTree, parent)
	if !ok {
		return futs[0].node
	}
	return a.saveTree(node, futs, parent)
}

// listSubdir lists a folder and starts saving what it holds. It returns the
// futures of the folder's entries and true; or, when the folder is done
// already (a failed backup, a folder that could not be listed and was saved
// empty), a single future of the folder's own node and false.
func (a *archiver) listSubdir(path string, node *Node, parentTree *ID, parent *Node) ([]*nodeFuture, bool) {
	if a.failed() != nil {
		return []*nodeFuture{doneFuture(nil)}, false
	}
	ents, err := listFolder(path)
	if err != nil {
		a.warn(path, err)
		if ents == nil {
			// keep the folder itself, empty, as restic does
			return []*nodeFuture{doneFuture(a.saveTree(node, nil, parent))}, false
		}
	}
	pm := a.loadParentTree(parentTree)
	futs := make([]*nodeFuture, 0, len(ents))
	for _, e := range ents {
		p := filepath.Join(path, e.name)
		if a.ex.Match(p) {
			continue
		}
		if e.err != nil {
			a.warn(p, e.err)
			continue
		}
		futs = append(futs, a.saveEntry(p, e.fi, pm.find(e.name)))
	}
	return futs, true
}

// finishTree saves a listed folder's tree: right here when all its entries
// are done (an unchanged folder: no goroutine), else in a goroutine that
// waits for them, so that the walk goes on meanwhile. How many wait is
// bounded by the files handed to the readers and not yet read (the files
// channel and the readers), and by their folders above them.
func (a *archiver) finishTree(node *Node, futs []*nodeFuture, parent *Node) *nodeFuture {
	pending := false
	for _, c := range futs {
		select {
		case <-c.done:
			continue
		default:
		}
		pending = true
		break
	}
	if !pending {
		return doneFuture(a.saveTree(node, futs, parent))
	}
	f := &nodeFuture{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.node = a.saveTree(node, futs, parent)
	}()
	return f
}

// dirInfo is one entry of a listed folder: its lstat metadata, or why there
// is none.
type dirInfo struct {
	name string
	fi   os.FileInfo
	err  error
}

// sourceFile is a file being read for a backup.
type sourceFile interface {
	io.ReadSeekCloser
	Stat() (os.FileInfo, error)
}

const smallFile = chunker.MinSize

// bigFile is the size from which a file goes to the readers' first queue.
const bigFile = 16 << 20

func (a *archiver) getSmall() []byte {
	select {
	case b := <-a.smallBufs:
		if b == nil {
			b = make([]byte, smallFile+1)
		}
		return b[:cap(b)]
	case <-a.ctx.Done():
		return nil
	}
}

// chunkBuf is the size of a new chunk buffer: most chunks fit (the chunker
// cuts at 512 KiB plus about 1 MiB on average).
const chunkBuf = 2 << 20

// getChunkBuf returns a free chunk buffer or a new one.
func (a *archiver) getChunkBuf() []byte {
	select {
	case b := <-a.chunkBufs:
		return b[:cap(b)]
	default:
		return make([]byte, chunkBuf)
	}
}

// getBigBuf returns a buffer of chunkMax bytes when one is free.
func (a *archiver) getBigBuf() []byte {
	select {
	case b := <-a.bigBufs:
		return bigBuf(b)
	case <-a.ctx.Done():
		return nil
	}
}

// putBuf takes back a buffer a reader is done with: small-file and
// big buffers always (their number is fixed), chunk buffers while there is
// room.
func (a *archiver) putBuf(b []byte) {
	switch cap(b) {
	case smallFile + 1:
		a.smallBufs <- b
	case chunkMax:
		a.bigBufs <- b
	case chunkBuf:
		select {
		case a.chunkBufs <- b:
		default:
		}
	}
}

// reader reads files, cuts them into chunks, hashes them and saves the new
// ones.
func (a *archiver) reader() {
	defer a.readW.Done()
	defer a.idleReaders.Add(1) // a reader that is done leaves a core free
	var work []byte            // this reader's chunking buffer, made on first need
	sc := BlobScratch{hashes: true}
	files, big := a.files, a.bigFiles
	for files != nil || big != nil {
		var job fileJob
		var ok bool
		select {
		case job, ok = <-big:
			if !ok {
				big = nil
				continue
			}
		default:
			fromFiles := false
			a.idleReaders.Add(1)
			select {
			case job, ok = <-big:
			case job, ok = <-files:
				fromFiles = true
			}
			a.idleReaders.Add(-1)
			if !ok {
				if fromFiles {
					files = nil
				} else {
					big = nil
				}
				continue
			}
		}
		if a.failed() != nil {
			close(job.fut.done)
			continue
		}
		err := a.readFile(job, &work, &sc)
		if cap(work) > chunkBuf {
			a.putBuf(work) // a big buffer is not kept for the next file
			work = nil
		}
		if err != nil {
			a.warn(job.path, err)
			job.fut.node = nil
		} else {
			job.fut.node = job.node
		}
		a.filesDone.Add(1)
		close(job.fut.done)
	}
}

func (a *archiver) readFile(job fileJob, work *[]byte, sc *BlobScratch) error {
	f, err := openFile(job.path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &os.PathError{Op: "open", Path: job.path, Err: &NotRegularError{Mode: fi.Mode()}}
	}
	content := []ID{}
	var size int64
	if fi.Size() <= smallFile {
		buf := a.getSmall()
		if buf == nil {
			return a.failed()
		}
		buf = buf[:fi.Size()+1]
		// one read normally returns the whole file: a second read only to
		// see the end would cost a system call per file
		n, err := readSmall(f, buf, int(fi.Size()))
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			a.putBuf(buf)
			return err
		}
		if n == len(buf) {
			// grew while we read it: fall back to chunking
			a.putBuf(buf)
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
		} else {
			buf = buf[:n]
			size = int64(n)
			if n > 0 {
				id := sc.hash(buf)
				content = append(content, id)
				if a.save(buf, id, sc, true) {
					buf = nil // the saver's now
				}
			}
			if buf != nil {
				a.putBuf(buf)
			}
			a.bytesDone.Add(size)
			return a.finishFile(job, content, size)
		}
	}
	// chunk: read in steps, search each new step for a cut, save a new
	// chunk from the buffer, then move what follows the cut to the front
	// (out of a big buffer into a chunk buffer)
	if *work == nil {
		*work = a.getChunkBuf()
	}
	buf := *work
	defer func() { *work = buf }()
	n, scanned, eof := 0, 0, false
	var pre prefixHash
	for {
		if err := a.failed(); err != nil {
			return err
		}
		l := 0
		if n >= chunkMin {
			l = a.cut.cut(buf[:n], scanned+1)
			scanned = n
		}
		if l == 0 && eof {
			if n == 0 {
				break
			}
			l = n
		}
		if l == 0 {
			want := min(chunkMax, max(n, chunkMin)+readStep)
			if want > len(buf) {
				// the big buffer when it is free; while the other reader's
				// chunk is in it, the chunk of a new file is streamed into
				// the pack (that of a changed file is likely stored already,
				// and would be compressed and sealed for nothing)
				var big []byte
				select {
				case b := <-a.bigBufs:
					big = bigBuf(b)
				default:
					if job.changed {
						break
					}
					lc, err := a.streamLong(f, buf, n, sc)
					if err != nil {
						return err
					}
					if lc.size > 0 {
						content = append(content, lc.id)
						size += int64(lc.size)
						a.bytesDone.Add(int64(lc.size))
						n, scanned, eof = lc.rest, 0, lc.eof
						if n == 0 && eof {
							return a.finishFile(job, content, size)
						}
						continue
					}
				}
				g, err := a.growToBig(f, buf, n, &pre, big)
				if err != nil {
					return err
				}
				if g.buf == nil {
					return a.ctx.Err()
				}
				buf = g.buf
				if g.read > 0 || g.eof {
					// read and searched ahead while waiting for the buffer:
					// search again from the cut found there, or read on
					n += g.read
					eof = g.eof
					scanned = n
					if g.cut > 0 {
						scanned = g.cut - 1
					}
					continue
				}
			}
			m, err := io.ReadFull(f, buf[n:want])
			n += m
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return err
			}
			continue
		}
		c := buf[:l]
		id := pre.sum(c, sc)
		content = append(content, id)
		size += int64(l)
		a.bytesDone.Add(int64(l))
		rest := n - l
		// what follows the cut is copied out before a saver may own buf
		var next []byte
		if cap(buf) > chunkBuf || a.idleReaders.Load() > 0 {
			next = a.getChunkBuf()
			copy(next, buf[l:n])
		}
		switch {
		case a.save(c, id, sc, next != nil):
			buf = next
		case next != nil:
			a.putBuf(buf)
			buf = next
		default:
			copy(buf, buf[l:n])
		}
		n, scanned = rest, 0
		if n == 0 && eof {
			break
		}
	}
	return a.finishFile(job, content, size)
}

// bigGrow is what growToBig hands back: the big buffer, with the chunk's
// first bytes in it and what was read ahead after them.
type bigGrow struct {
	buf  []byte // the big buffer (nil: the backup was cancelled)
	read int    // bytes read ahead while waiting for it
	eof  bool   // the file ended in what was read ahead
	cut  int    // the first cut in what was read ahead (a chunk length), or 0
}

// growToBig moves the first n bytes of a chunk that outgrew its chunk
// buffer (buf, no cut in it) into the big buffer, and gives buf back. When
// the big buffer is busy (the other reader's chunk is in it), the reader
// does the work it would do anyway while it waits instead of leaving its
// core idle: it hashes the n bytes (pre), reads the next piece of the file
// into a chunk buffer and searches it for the cut (a cut depends only on
// the 64 bytes before it, so the search goes on with buf's last 64 bytes
// in front). In Go traces of a 1 GiB first backup this wait was the
// largest idle time (0.9-2.5 core-s under load); the chunk of a new file is
// now streamed instead when the storage can rewind a pack (streamLong), so
// a reader waits only for a changed file's chunk or on other storages.
func (a *archiver) growToBig(f io.Reader, buf []byte, n int, pre *prefixHash, big []byte) (bigGrow, error) {
	g := bigGrow{buf: big}
	if g.buf == nil {
		select {
		case b := <-a.bigBufs:
			g.buf = bigBuf(b)
		default:
		}
	}
	if g.buf == nil && n >= chunkMin {
		pre.add(buf[:n])
		ahead := a.getChunkBuf()
		copy(ahead, buf[n-64:n])
		m, err := io.ReadFull(f, ahead[64:min(len(ahead), 64+chunkMax-n)])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			g.eof = true
		} else if err != nil {
			a.putBuf(ahead)
			return bigGrow{}, err
		}
		g.read = m
		if m > 0 {
			if l := a.cut.search(ahead[:64+m], 65, 64+m); l > 0 {
				g.cut = n - 64 + l
			}
		}
		select {
		case b := <-a.bigBufs:
			g.buf = bigBuf(b)
		case <-a.ctx.Done():
			a.putBuf(ahead)
			return bigGrow{}, nil
		}
		copy(g.buf[n:], ahead[64:64+m])
		a.putBuf(ahead)
	} else if g.buf == nil {
		if g.buf = a.getBigBuf(); g.buf == nil {
			return bigGrow{}, nil
		}
	}
	copy(g.buf, buf[:n])
	a.putBuf(buf)
	return g, nil
}

// longChunk is what streamLong hands back: a chunk streamed into a pack.
type longChunk struct {
	id   ID
	size int  // the chunk's length (0: not streamed)
	rest int  // bytes after the cut, now at the start of the buffer
	eof  bool // the file ended in what was read
}

// streamLong saves a chunk that outgrew its chunk buffer (buf[:n], no cut in
// it) while the big buffer is busy, instead of waiting for it: the chunk's
// first n bytes start a blob in the reader's pack (startLong), then the file
// is read on in pieces of readStep bytes into buf, behind the window of the
// bytes before them, each piece searched for the cut and added to the blob up
// to it. What follows the cut is left at the start of buf. The cuts are the
// ones the whole chunk would get (a cut depends on the 64 bytes before it
// only). When the storage cannot rewind a pack it returns a zero longChunk
// and the reader waits for the big buffer (growToBig).
func (a *archiver) streamLong(f io.Reader, buf []byte, n int, sc *BlobScratch) (longChunk, error) {
	if err := a.failed(); err != nil {
		return longChunk{}, err
	}
	b, err := a.r.startLong(buf[:n], sc)
	if err != nil || b == nil {
		if err != nil {
			a.fatal(err)
		}
		return longChunk{}, err
	}
	size := n
	for {
		copy(buf, buf[n-chunkWindow:n])
		m, err := io.ReadFull(f, buf[chunkWindow:chunkWindow+min(readStep, chunkMax-size)])
		eof := false
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			b.abort()
			return longChunk{}, err
		}
		n = chunkWindow + m
		l := 0
		if m > 0 {
			l = a.cut.search(buf[:n], chunkWindow+1, n)
		}
		if l == 0 && (eof || size+m == chunkMax) {
			l = n
		}
		end := n
		if l > 0 {
			end = l
		}
		if err := b.write(buf[chunkWindow:end]); err != nil {
			a.fatal(err)
			return longChunk{}, err
		}
		size += end - chunkWindow
		if l == 0 {
			continue
		}
		id, _, err := b.finish()
		if err != nil {
			a.fatal(err)
			return longChunk{}, err
		}
		copy(buf, buf[l:n])
		return longChunk{id: id, size: size, rest: n - l, eof: eof}, nil
	}
}

// bigBuf makes the big buffer on first use.
func bigBuf(b []byte) []byte {
	if b == nil {
		b = make([]byte, chunkMax)
	}
	return b[:cap(b)]
}

// prefixHash is the SHA-256 of a chunk's first bytes, hashed while the
// reader waited for the big buffer (see growToBig).
type prefixHash struct {
	h hash.Hash
	n int
}

func (p *prefixHash) add(b []byte) {
	if p.h == nil {
		p.h = sha256.New()
	}
	p.h.Write(b)
	p.n += len(b)
}

// sum is the chunk's ID: Hash(c), going on from the prefix hashed, if any
// (with no prefix, beside the pending bytes of sc's pack: sc.hash).
func (p *prefixHash) sum(c []byte, sc *BlobScratch) ID {
	if p.n == 0 {
		return sc.hash(c)
	}
	var id ID
	if p.n <= len(c) {
		p.h.Write(c[p.n:])
		p.h.Sum(id[:0])
	} else {
		id = Hash(c) // cannot happen: the prefix has no cut in it
	}
	p.h.Reset()
	p.n = 0
	return id
}

// readSmall reads into buf (size+1 bytes long) until it holds the size
// bytes that stat reported, or one more (the file grew), or the file ends.
func readSmall(f io.Reader, buf []byte, size int) (int, error) {
	n := 0
	for n < size {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil || m == 0 {
			return n, err
		}
	}
	return n, nil
}

// readStep is how much of a file is read at a time while chunking.
const readStep = 256 << 10

func (a *archiver) finishFile(job fileJob, content []ID, size int64) error {
	job.node.Content = content
	job.node.Size = uint64(size)
	return nil
}

// save compresses, encrypts and packs a new chunk (b) into the reader's
// own streamed pack (sc), right after the reader hashed it, and reports
// false: the reader keeps its buffer. The chunk is still in this core's
// cache and is not handed on: with savers of their own (every chunk passed
// through a channel, 2 readers and 2 savers on 2 cores) a 1 GiB first
// backup took 1.03-1.06x the CPU and 2-8 MiB more peak memory (paired
// runs). Only while a reader has no file to read (one large file left, or
// the end) is the chunk handed to the savers (if mayHand and there is room
// in the saves channel: one chunk may wait there, so that the reader of a
// lone large file cuts ahead while a saver works), so that the idle core
// saves it while this reader goes on with the file; save then reports true
// and the saver owns b.
func (a *archiver) save(b []byte, id ID, sc *BlobScratch, mayHand bool) bool {
	if a.failed() != nil || a.r.Known(BlobHandle{ID: id, Type: DataBlob}) {
		return false
	}
	if mayHand && a.idleReaders.Load() > 0 {
		select {
		case a.saves <- chunkJob{data: b, id: id}:
			return true
		default:
		}
	}
	pprof.SetGoroutineLabels(a.saveLabels)
	defer pprof.SetGoroutineLabels(a.readLabels)
	if _, err := a.r.SaveBlob(DataBlob, id, b, sc); err != nil {
		a.fatal(err)
	}
	return false
}

// saver saves the chunks a reader hands it (see save).
func (a *archiver) saver() {
	defer a.saveW.Done()
	var scratch BlobScratch
	for j := range a.saves {
		if a.failed() == nil {
			if _, err := a.r.SaveBlob(DataBlob, j.id, j.data, &scratch); err != nil {
				a.fatal(err)
			}
		}
		a.putBuf(j.data)
	}
}

// openFile opens files for reading; tests replace it to simulate errors.
var openFile = openSource

// listFolder lists the folders the backup saves; tests replace it to change a
// folder between its listing and its subfolders'.
var listFolder = listDir
