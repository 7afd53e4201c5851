package repo

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// skipWithoutMapping skips where mapBuffer maps nothing (the heap serves big blobs).
func skipWithoutMapping(t *testing.T) {
	t.Helper()
	m, free := mapBuffer(1)
	if m == nil {
		t.Skipf("no mapped buffers on %s: the heap serves", runtime.GOOS)
	}
	free()
}

// TestBigPool: a buffer handed back serves the next get that it holds, the
// smallest that holds n is taken, and one too small is replaced, never kept beside
// its replacement, so that the pool holds no more buffers than were in use at once.
func TestBigPool(t *testing.T) {
	skipWithoutMapping(t)
	var p bigPool
	defer p.release()
	a, _ := p.get2(3<<20+1, 0)
	if len(a.b) != 4<<20 {
		t.Fatalf("get(3 MiB + 1) gave %d bytes, want 4 MiB (rounded up to bigRound)", len(a.b))
	}
	a.b[len(a.b)-1] = 7
	p.put(a)
	b, _ := p.get2(2<<20, 0)
	if !sameArray(b.b, a.b) || b.b[len(b.b)-1] != 7 {
		t.Fatal("a buffer handed back was not reused for a smaller get")
	}
	c, _ := p.get2(2<<20, 0) // the pool is empty: a new one
	if sameArray(c.b, b.b) || len(c.b) != 2<<20 {
		t.Fatalf("second get while the first is in use: %d bytes, same array %v", len(c.b), sameArray(c.b, b.b))
	}
	p.put(b)
	p.put(c)
	if d, _ := p.get2(1<<20, 0); !sameArray(d.b, c.b) {
		t.Fatal("get did not take the smallest buffer that holds n")
	} else {
		p.put(d)
	}
	_, e := p.get2(0, 6<<20) // none holds it: the largest (4 MiB) is replaced
	if len(e.b) != 6<<20 || len(p.bufs) != 1 || len(p.bufs[0].b) != 2<<20 {
		t.Fatalf("get(6 MiB): %d bytes, pool left with %d buffers", len(e.b), len(p.bufs))
	}
	p.put(e)
	p.put(pooledBuf{}) // nothing asked for, or a failed mapping: not kept, not counted
	if len(p.bufs) != 2 || p.out != 0 {
		t.Fatalf("pool holds %d buffers, %d handed out, want 2 and 0", len(p.bufs), p.out)
	}
}

// TestBigPoolLimit: with a limit of 2, eight callers asking for one or two buffers at
// once get no more than two between them; the others wait (counted while they wait,
// so that the test knows when all have either got theirs or wait), and all get theirs
// once the buffers come back. The pool then holds no more than two buffers.
func TestBigPoolLimit(t *testing.T) {
	skipWithoutMapping(t)
	p := bigPool{limit: 2}
	defer p.release()
	const callers = 8
	type got struct{ a, b pooledBuf }
	gotc := make(chan got, callers)
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			second := 0
			if i%2 == 0 {
				second = 1 << 20
			}
			a, b := p.get2(1<<20, second)
			gotc <- got{a, b}
		}()
	}
	// wait until every caller has its buffers or waits for them
	for {
		p.mu.Lock()
		settled := len(gotc) + p.waiting
		out, most := p.out, p.most
		p.mu.Unlock()
		if settled == callers {
			if out > 2 || most > 2 {
				t.Fatalf("%d buffers handed out at once (%d now) with a limit of 2", most, out)
			}
			break
		}
		runtime.Gosched()
	}
	for i := 0; i < callers; i++ {
		g := <-gotc
		p.put(g.a)
		p.put(g.b)
	}
	wg.Wait()
	if p.most > 2 || len(p.bufs) > 2 || p.out != 0 {
		t.Fatalf("at most %d handed out, %d buffers kept, %d still out; want at most 2, 2 and 0", p.most, len(p.bufs), p.out)
	}
}

// TestRestoreBoundsBigBuffers: a restore of files made of blobs above 2 MiB (stored
// as they are, compressed to more than 2 MiB, and compressed to little), with five
// workers on four cores, has no more than four of the pool's buffers out at once (one a
// core), and restores every file.
func TestRestoreBoundsBigBuffers(t *testing.T) {
	skipWithoutMapping(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	now := time.Now()
	tree := &Tree{}
	want := map[string][]byte{}
	for f := 0; f < 6; f++ {
		var blobs [][]byte
		for k := 0; k < 3; k++ {
			seed := 100*f + k
			switch k {
			case 0: // stored as it is
				blobs = append(blobs, randomBytes(seed, 3<<20))
			case 1: // hex: compressed to about half, above 2 MiB
				blobs = append(blobs, []byte(hex.EncodeToString(randomBytes(seed, 5<<20/2))))
			default: // compressed to little
				b := make([]byte, 3<<20)
				copy(b, randomBytes(seed, 4096))
				blobs = append(blobs, b)
			}
		}
		content, data := saveContent(t, r, blobs)
		name := "f" + string(rune('a'+f))
		want[name] = data
		tree.Nodes = append(tree.Nodes, &Node{Name: name, Type: "file", Mode: 0o644, ModTime: now, Size: uint64(len(data)), Content: content})
	}
	root, err := r.SaveTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	most, limit := -1, 0
	restoredBigPool = func(p *bigPool) { most, limit = p.most, p.limit }
	defer func() { restoredBigPool = nil }()
	out := t.TempDir()
	sn := &Snapshot{Time: now, Tree: &root, Paths: []string{"/x"}, Hostname: "test"}
	res, err := r.Restore(ctx, sn, RestoreOptions{Target: out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != len(want) || res.Errors != 0 {
		t.Fatalf("%d files restored, %d errors; want %d and 0", res.Files, res.Errors, len(want))
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(data) {
			t.Fatalf("%s restored with other content", name)
		}
	}
	if limit != 4 || most < 1 || most > limit {
		t.Fatalf("%d big buffers out at once in the restore with a limit of %d, want 1 to 4", most, limit)
	}
}
