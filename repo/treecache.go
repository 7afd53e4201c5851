package repo

import (
	"context"
	"sync"
)

// treeCache keeps recently decoded trees, up to a byte budget, so that trees read
// twice (planning, then restoring; a folder repeated in a snapshot) are decoded once.
// Once started (ahead), it also loads the trees a walk will need next on other
// goroutines: a walk is depth first and needs its trees one after the other, so on a
// snapshot of many small files reading, decrypting, decompressing and decoding trees
// on one goroutine was the restore's longest sequential stretch.
//
// Two walks over one snapshot (a restore's plan, then the restore) read the trees in
// the same order. The first keeps the first trees it reads, up to keepBudget, never
// dropping them for later ones (which the second walk needs last); once consume is set,
// the second walk takes each tree out as it reads it. Trees loaded ahead that are not
// kept are held until read, within aheadBudget (the oldest dropped first). A restore no
// longer holds every listing of the snapshot: decoded, they took about 440 bytes a file
// (44 MB of a 100,000-file restore's 99 MB peak, and up to 64 MiB and more at a million).
type treeCache struct {
	r  *Repository
	mu sync.Mutex
	m  map[ID]cachedTree
	// order lists the trees held until read (not kept), oldest first; it may name trees
	// taken out since
	order []ID
	// kept and held are the bytes of the trees kept and of those held until read
	kept, held              int64
	keepBudget, aheadBudget int64
	// consume: every read takes the tree out, the kept ones too, and nothing more is kept
	consume bool
	// loading holds the trees queued or being loaded ahead; queue is a stack of them
	// (the last pushed is loaded first: the next folder of a depth-first walk)
	loading map[ID]*treeLoad
	queue   []ID
	wake    *sync.Cond
	stopped bool
	wg      sync.WaitGroup
}

type cachedTree struct {
	t    *Tree
	size int64
	keep bool // read again until consume is set
}

// treeLoad is a tree loaded ahead: done is closed once t, size and err are set.
type treeLoad struct {
	done    chan struct{}
	started bool
	t       *Tree
	size    int64
	err     error
}

const (
	// treeCacheBytes bounds the kept trees (their encoded size; decoded they take about
	// as much), treeAheadBytes those loaded ahead and not yet read
	treeCacheBytes = 16 << 20
	treeAheadBytes = 16 << 20
	// maxTreesAhead bounds the trees queued to be loaded ahead; more are loaded when
	// the walk reaches them. The trees loaded ahead are held within treeAheadBytes.
	maxTreesAhead = 256
	// maxTreeAheadBytes: larger trees (a crafted repository's 64 MiB ones) are left to the
	// walk itself, so loading ahead holds no more memory at once than a few small trees
	maxTreeAheadBytes = 1 << 20
	// maxTreeLoaders bounds the goroutines loading ahead
	maxTreeLoaders = 4
)

func newTreeCache(r *Repository) *treeCache {
	c := &treeCache{r: r, m: map[ID]cachedTree{}, loading: map[ID]*treeLoad{},
		keepBudget: treeCacheBytes, aheadBudget: treeAheadBytes}
	c.wake = sync.NewCond(&c.mu)
	return c
}

// get returns the tree and the size of its encoding.
func (c *treeCache) get(ctx context.Context, id ID) (*Tree, int64, error) {
	c.mu.Lock()
	if ct, ok := c.m[id]; ok {
		c.read(id, ct)
		c.mu.Unlock()
		return ct.t, ct.size, nil
	}
	if l, ok := c.loading[id]; ok {
		if l.started {
			c.mu.Unlock()
			select {
			case <-l.done:
				if l.err == nil {
					// the loader put it in the cache
					c.mu.Lock()
					if ct, ok := c.m[id]; ok && ct.t == l.t {
						c.read(id, ct)
					}
					c.mu.Unlock()
				}
				return l.t, l.size, l.err
			case <-ctx.Done():
				return nil, 0, ctx.Err()
			}
		}
		// still queued: loaded here, the loaders pass it by
		delete(c.loading, id)
	}
	c.mu.Unlock()
	t, size, err := c.r.loadTreeSized(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	if c.canKeep(size) {
		c.m[id] = cachedTree{t: t, size: size, keep: true}
		c.kept += size
	}
	c.mu.Unlock()
	return t, size, nil
}

// setConsume makes every read take its tree out (see treeCache).
func (c *treeCache) setConsume() {
	c.mu.Lock()
	c.consume = true
	c.mu.Unlock()
}

// canKeep says whether a tree of size bytes is kept. c.mu is held.
func (c *treeCache) canKeep(size int64) bool {
	return !c.consume && c.kept+size <= c.keepBudget
}

// read takes tree id, just read, out of the cache unless it is kept. c.mu is held.
func (c *treeCache) read(id ID, ct cachedTree) {
	if ct.keep && !c.consume {
		return
	}
	delete(c.m, id)
	if ct.keep {
		c.kept -= ct.size
		return
	}
	c.held -= ct.size
	// order names the trees taken out until there are many of them
	if len(c.order) > 64+2*len(c.m) {
		n := 0
		for _, o := range c.order {
			if ct, ok := c.m[o]; ok && !ct.keep {
				c.order[n] = o
				n++
			}
		}
		clear(c.order[n:])
		c.order = c.order[:n]
	}
}

// put adds a tree loaded ahead: kept while there is room to keep, else held until read,
// dropping the oldest such trees beyond aheadBudget. c.mu is held.
func (c *treeCache) put(id ID, t *Tree, size int64) {
	if _, ok := c.m[id]; ok {
		return
	}
	if c.canKeep(size) {
		c.m[id] = cachedTree{t: t, size: size, keep: true}
		c.kept += size
		return
	}
	if size > c.aheadBudget {
		return
	}
	for c.held+size > c.aheadBudget && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		if ct, ok := c.m[old]; ok && !ct.keep {
			c.held -= ct.size
			delete(c.m, old)
		}
	}
	c.m[id] = cachedTree{t: t, size: size}
	c.order = append(c.order, id)
	c.held += size
}

// start runs n goroutines that load the trees passed to ahead, until stop. With n < 1
// nothing is loaded ahead.
func (c *treeCache) start(ctx context.Context, n int) {
	for i := 0; i < min(n, maxTreeLoaders); i++ {
		c.wg.Add(1)
		go c.loader(ctx)
	}
}

// stop ends the loaders, once the loads they began are done.
func (c *treeCache) stop() {
	c.mu.Lock()
	c.stopped = true
	for _, id := range c.queue {
		if l := c.loading[id]; l != nil && !l.started {
			delete(c.loading, id)
		}
	}
	c.queue = nil
	c.wake.Broadcast()
	c.mu.Unlock()
	c.wg.Wait()
}

// ahead queues trees the walk will read soon, the first one to be read first.
func (c *treeCache) ahead(ids []ID) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	// the stack's top is loaded first: push the walk's last folder first
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		if _, ok := c.m[id]; ok {
			continue
		}
		if _, ok := c.loading[id]; ok {
			continue
		}
		if len(c.queue) >= maxTreesAhead {
			// the bottom of the stack is what the walk needs last
			if l := c.loading[c.queue[0]]; l != nil && !l.started {
				delete(c.loading, c.queue[0])
			}
			c.queue = c.queue[1:]
		}
		c.queue = append(c.queue, id)
		c.loading[id] = &treeLoad{done: make(chan struct{})}
	}
	c.wake.Broadcast()
}

func (c *treeCache) loader(ctx context.Context) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.stopped {
			c.wake.Wait()
		}
		if c.stopped {
			c.mu.Unlock()
			return
		}
		id := c.queue[len(c.queue)-1]
		c.queue = c.queue[:len(c.queue)-1]
		l := c.loading[id]
		if l == nil || l.started {
			// taken by the walk itself, or dropped
			c.mu.Unlock()
			continue
		}
		if pb, ok := c.r.idx.Lookup(BlobHandle{ID: id, Type: TreeBlob}); !ok || pb.PlainLength() > maxTreeAheadBytes {
			// unknown (the walk names the error) or large: left to the walk
			delete(c.loading, id)
			c.mu.Unlock()
			continue
		}
		l.started = true
		c.mu.Unlock()
		l.t, l.size, l.err = c.r.loadTreeSized(ctx, id)
		c.mu.Lock()
		if l.err == nil {
			c.put(id, l.t, l.size)
		}
		delete(c.loading, id)
		c.mu.Unlock()
		close(l.done)
	}
}
