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
type treeCache struct {
	r     *Repository
	mu    sync.Mutex
	m     map[ID]cachedTree
	order []ID
	bytes int64
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
	treeCacheBytes = 64 << 20
	// maxTreesAhead bounds the trees queued to be loaded ahead; more are loaded when
	// the walk reaches them. The trees loaded ahead are held within treeCacheBytes.
	maxTreesAhead = 256
	// maxTreeAheadBytes: larger trees (a crafted repository's 64 MiB ones) are left to the
	// walk itself, so loading ahead holds no more memory at once than a few small trees
	maxTreeAheadBytes = 1 << 20
	// maxTreeLoaders bounds the goroutines loading ahead
	maxTreeLoaders = 4
)

func newTreeCache(r *Repository) *treeCache {
	c := &treeCache{r: r, m: map[ID]cachedTree{}, loading: map[ID]*treeLoad{}}
	c.wake = sync.NewCond(&c.mu)
	return c
}

// get returns the tree and the size of its encoding.
func (c *treeCache) get(ctx context.Context, id ID) (*Tree, int64, error) {
	c.mu.Lock()
	if ct, ok := c.m[id]; ok {
		c.mu.Unlock()
		return ct.t, ct.size, nil
	}
	if l, ok := c.loading[id]; ok {
		if l.started {
			c.mu.Unlock()
			select {
			case <-l.done:
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
	c.put(id, t, size)
	c.mu.Unlock()
	return t, size, nil
}

// put adds a tree to the cache, dropping the oldest ones beyond the budget. c.mu is held.
func (c *treeCache) put(id ID, t *Tree, size int64) {
	if _, ok := c.m[id]; ok || size > treeCacheBytes {
		return
	}
	for c.bytes+size > treeCacheBytes && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= c.m[old].size
		delete(c.m, old)
	}
	c.m[id] = cachedTree{t, size}
	c.order = append(c.order, id)
	c.bytes += size
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
