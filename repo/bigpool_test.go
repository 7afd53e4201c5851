package repo

import (
	"runtime"
	"testing"
)

// TestBigPool: a buffer handed back serves the next get that it holds, the
// smallest that holds n is taken, and one too small is replaced, never kept beside
// its replacement, so that the pool holds no more buffers than were in use at once.
func TestBigPool(t *testing.T) {
	m, free := mapBuffer(1)
	if m == nil {
		t.Skipf("no mapped buffers on %s: the heap serves", runtime.GOOS)
	}
	free()
	var p bigPool
	defer p.release()
	a := p.get(3<<20 + 1)
	if len(a.b) != 4<<20 {
		t.Fatalf("get(3 MiB + 1) gave %d bytes, want 4 MiB (rounded up to bigRound)", len(a.b))
	}
	a.b[len(a.b)-1] = 7
	p.put(a)
	b := p.get(2 << 20)
	if !sameArray(b.b, a.b) || b.b[len(b.b)-1] != 7 {
		t.Fatal("a buffer handed back was not reused for a smaller get")
	}
	c := p.get(2 << 20) // the pool is empty: a new one
	if sameArray(c.b, b.b) || len(c.b) != 2<<20 {
		t.Fatalf("second get while the first is in use: %d bytes, same array %v", len(c.b), sameArray(c.b, b.b))
	}
	p.put(b)
	p.put(c)
	if d := p.get(1 << 20); !sameArray(d.b, c.b) {
		t.Fatal("get did not take the smallest buffer that holds n")
	} else {
		p.put(d)
	}
	e := p.get(6 << 20) // none holds it: the largest (4 MiB) is replaced
	if len(e.b) != 6<<20 || len(p.bufs) != 1 || len(p.bufs[0].b) != 2<<20 {
		t.Fatalf("get(6 MiB): %d bytes, pool left with %d buffers", len(e.b), len(p.bufs))
	}
	p.put(e)
	p.put(pooledBuf{}) // a failed mapping is not kept
	if len(p.bufs) != 2 {
		t.Fatalf("pool holds %d buffers, want 2", len(p.bufs))
	}
}
