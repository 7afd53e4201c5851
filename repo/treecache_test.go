package repo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTreeCacheLoadsAhead: trees queued ahead (more than the queue holds, one missing
// from the repository, some also read by the walk itself while queued) come back as the
// trees of their IDs, and a missing one as an error, whichever goroutine loaded them.
func TestTreeCacheLoadsAhead(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	now := time.Now()
	const n = maxTreesAhead + 100
	var ids []ID
	for i := 0; i < n; i++ {
		id, err := r.SaveTree(&Tree{Nodes: []*Node{{Name: fmt.Sprintf("file-%04d", i), Type: "file", Mode: 0o644, ModTime: now}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// a tree larger than maxTreeAheadBytes is left to the walk
	big := &Tree{}
	for i := 0; i < 5000; i++ {
		big.Nodes = append(big.Nodes, &Node{Name: fmt.Sprintf("%0200d", i), Type: "file", Mode: 0o644, ModTime: now})
	}
	bigID, err := r.SaveTree(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r = openTestRepo(t, NewFolder(dir))
	if pb, ok := r.idx.Lookup(BlobHandle{ID: bigID, Type: TreeBlob}); !ok || pb.PlainLength() <= maxTreeAheadBytes {
		t.Fatalf("the big tree is not larger than %d bytes", maxTreeAheadBytes)
	}
	missing := Hash([]byte("a tree nobody saved"))
	ids = append(ids[:10:10], append([]ID{missing, bigID}, ids[10:]...)...)

	// loaded ahead, without the walk: small trees only
	c := newTreeCache(r)
	c.start(ctx, 2)
	c.ahead(ids[:20])
	for {
		c.mu.Lock()
		busy := len(c.queue) + len(c.loading)
		_, gotBig := c.m[bigID]
		_, gotFirst := c.m[ids[0]]
		c.mu.Unlock()
		if busy == 0 {
			if gotBig || !gotFirst {
				t.Fatalf("loaded ahead: big tree %v (want false), first tree %v (want true)", gotBig, gotFirst)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.stop()

	for _, loaders := range []int{1, 4} {
		c := newTreeCache(r)
		c.start(ctx, loaders)
		c.ahead(ids)
		// the walk reads the trees in order while the loaders run ahead of it, and
		// reads a few of the last ones (still queued) itself first
		for _, i := range []int{len(ids) - 1, len(ids) - 2} {
			if _, _, err := c.get(ctx, ids[i]); err != nil {
				t.Fatal(err)
			}
		}
		for i, id := range ids {
			tr, _, err := c.get(ctx, id)
			if id == bigID {
				if err != nil || len(tr.Nodes) != len(big.Nodes) {
					t.Fatalf("big tree: %v", err)
				}
				continue
			}
			if id == missing {
				if err == nil || !strings.Contains(err.Error(), "not found") {
					t.Fatalf("missing tree: got %v, want a not-found error", err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("file-%04d", i)
			if i > 10 {
				want = fmt.Sprintf("file-%04d", i-2)
			}
			if len(tr.Nodes) != 1 || tr.Nodes[0].Name != want {
				t.Fatalf("tree %d: got %+v, want one node %s", i, tr.Nodes, want)
			}
		}
		c.stop()
		c.mu.Lock()
		left := len(c.loading) + len(c.queue)
		c.mu.Unlock()
		if left != 0 {
			t.Fatalf("%d loads left after stop", left)
		}
		// after stop, nothing more is queued; get still reads
		c.ahead(ids[:3])
		if _, _, err := c.get(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTreeCacheKeepsFirstThenConsumes: a first walk keeps the first trees it reads, up
// to the budget, and none after (a second walk in the same order needs those first);
// once consuming, every read takes its tree out, so the cache empties as the second walk
// goes; trees loaded ahead and not kept are held until read, within their own budget.
func TestTreeCacheKeepsFirstThenConsumes(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	now := time.Now()
	var ids []ID
	for i := 0; i < 40; i++ {
		id, err := r.SaveTree(&Tree{Nodes: []*Node{{Name: fmt.Sprintf("file-%04d", i), Type: "file", Mode: 0o644, ModTime: now}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r = openTestRepo(t, NewFolder(dir))
	c := newTreeCache(r)
	_, size, err := c.get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	c.m, c.kept = map[ID]cachedTree{}, 0
	// room for 10 trees kept, 5 held
	c.keepBudget, c.aheadBudget = 10*size+size/2, 5*size+size/2
	state := func() (kept, held int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		var kb, hb int64
		for _, ct := range c.m {
			if ct.keep {
				kept++
				kb += ct.size
			} else {
				held++
				hb += ct.size
			}
		}
		if kb != c.kept || hb != c.held || c.kept > c.keepBudget || c.held > c.aheadBudget {
			t.Fatalf("counted %d kept and %d held bytes, cache says %d and %d (budgets %d, %d)", kb, hb, c.kept, c.held, c.keepBudget, c.aheadBudget)
		}
		return kept, held
	}
	// the first walk: read twice, the first ten are kept
	for pass := 0; pass < 2; pass++ {
		for _, id := range ids[:20] {
			if _, _, err := c.get(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if k, h := state(); k != 10 || h != 0 {
			t.Fatalf("after the first walk: %d trees kept, %d held; want 10, 0", k, h)
		}
		for _, id := range ids[:10] {
			if _, ok := c.m[id]; !ok {
				t.Fatal("a tree of the first ten was not kept")
			}
		}
	}
	// loaded ahead, with the keep budget spent: held, the oldest dropped beyond 5
	c.mu.Lock()
	for _, id := range ids[20:30] {
		tr, size, err := r.loadTreeSized(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c.put(id, tr, size)
	}
	c.mu.Unlock()
	if k, h := state(); k != 10 || h != 5 {
		t.Fatalf("after loading ahead: %d trees kept, %d held; want 10, 5", k, h)
	}
	if _, ok := c.m[ids[29]]; !ok {
		t.Fatal("the newest tree loaded ahead was dropped")
	}
	// a held tree is taken out when read, even before consuming
	if _, _, err := c.get(ctx, ids[29]); err != nil {
		t.Fatal(err)
	}
	if k, h := state(); k != 10 || h != 4 {
		t.Fatalf("after reading a held tree: %d trees kept, %d held; want 10, 4", k, h)
	}
	// the second walk takes every tree out and keeps nothing new
	c.setConsume()
	for i, id := range ids {
		tr, _, err := c.get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Nodes) != 1 || tr.Nodes[0].Name != fmt.Sprintf("file-%04d", i) {
			t.Fatalf("tree %d: got %+v", i, tr.Nodes)
		}
	}
	if k, h := state(); k != 0 || h != 0 || len(c.order) > 64 {
		t.Fatalf("after consuming: %d trees kept, %d held, %d in order; want none", k, h, len(c.order))
	}
}
