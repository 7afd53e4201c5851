package repo

import "sync"

// bigPool keeps the mapped buffers of a restore's big blobs (see mapBuffer) for the
// next blob of any worker: mapped afresh for every segment, their pages were
// most of a restore's page faults (86,000 of 88,000 for the 1 GiB set), and where
// the system hands freed memory back to a hypervisor (free page reporting) every
// such page costs the host's work again when touched.
//
// It hands out at most limit buffers at once (a worker asking for more waits), and it
// maps a new one only when none is free, so that it never holds more than limit
// buffers: the peak memory of the big blobs is limit times the largest, whatever the
// number of workers. Not bounded, it held 10-20 MiB at a 1 GiB restore's peak RSS (up
// to six buffers of 7 MiB with three workers).
type bigPool struct {
	mu    sync.Mutex
	ready sync.Cond // signalled when buffers come back
	bufs  []pooledBuf
	limit int // buffers handed out at once; 0 is no limit
	out   int // buffers handed out now
	most  int // the most handed out at once (for tests)
	// waiting counts the callers of get2 waiting (for tests)
	waiting int
}

type pooledBuf struct {
	b    []byte
	free func()
}

// bigRound is the step mapped buffers are rounded up to, so that a run of ever
// larger blobs does not map a new buffer for each.
const bigRound = 1 << 20

// get2 returns buffers of at least n1 and n2 bytes (none for a size of 0), taken
// together so that a caller never holds one while it waits for the other: a caller
// must hand back (put) what it holds before it calls get2 again. It waits while
// handing them out would pass the limit (a limit below 2 counts as 2). A buffer is
// nil where mapping fails (the heap then serves).
func (p *bigPool) get2(n1, n2 int) (pooledBuf, pooledBuf) {
	k := 0
	for _, n := range []int{n1, n2} {
		if n > 0 {
			k++
		}
	}
	if k == 0 {
		return pooledBuf{}, pooledBuf{}
	}
	p.mu.Lock()
	if p.ready.L == nil {
		p.ready.L = &p.mu
	}
	for p.limit > 0 && p.out > 0 && p.out+k > max(p.limit, 2) {
		p.waiting++
		p.ready.Wait()
		p.waiting--
	}
	p.out += k
	p.most = max(p.most, p.out)
	p.mu.Unlock()
	var a, b pooledBuf
	if n1 > 0 {
		a = p.get(n1)
	}
	if n2 > 0 {
		b = p.get(n2)
	}
	return a, b
}

// get returns a buffer of at least n bytes, counted as handed out by get2 (and
// nil when mapping fails: it is then no longer counted). Of the buffers free, it takes
// the smallest that holds n; when none does, the largest is handed back to the system
// and replaced.
func (p *bigPool) get(n int) pooledBuf {
	p.mu.Lock()
	pick := -1
	for i, pb := range p.bufs {
		if pick < 0 {
			pick = i
			continue
		}
		fits, pickFits := len(pb.b) >= n, len(p.bufs[pick].b) >= n
		if fits && (!pickFits || len(pb.b) < len(p.bufs[pick].b)) || !fits && !pickFits && len(pb.b) > len(p.bufs[pick].b) {
			pick = i
		}
	}
	var got pooledBuf
	if pick >= 0 {
		last := len(p.bufs) - 1
		got = p.bufs[pick]
		p.bufs[pick] = p.bufs[last]
		p.bufs[last] = pooledBuf{}
		p.bufs = p.bufs[:last]
	}
	p.mu.Unlock()
	if len(got.b) >= n {
		return got
	}
	if got.free != nil {
		got.free()
	}
	b, free := mapBuffer((n + bigRound - 1) / bigRound * bigRound)
	if b == nil {
		p.mu.Lock()
		p.back()
		p.mu.Unlock()
		return pooledBuf{}
	}
	return pooledBuf{b: b, free: free}
}

// put gives a buffer from get2 back for another blob; nothing may refer to it. A nil
// buffer (none asked for, or a failed mapping) is not counted.
func (p *bigPool) put(pb pooledBuf) {
	if pb.b == nil {
		return
	}
	p.mu.Lock()
	p.bufs = append(p.bufs, pb)
	p.back()
	p.mu.Unlock()
}

// back counts one buffer as back and wakes those waiting; p.mu is held.
func (p *bigPool) back() {
	p.out--
	if p.ready.L != nil {
		p.ready.Broadcast()
	}
}

// release hands every buffer back to the system.
func (p *bigPool) release() {
	p.mu.Lock()
	bufs := p.bufs
	p.bufs = nil
	p.mu.Unlock()
	for _, pb := range bufs {
		pb.free()
	}
}
