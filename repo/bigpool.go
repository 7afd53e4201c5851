package repo

import "sync"

// bigPool keeps the mapped buffers of a restore's big blobs (see mapBuffer) for the
// next segment of any worker: mapped afresh for every segment, their pages were
// most of a restore's page faults (86,000 of 88,000 for the 1 GiB set), and where
// the system hands freed memory back to a hypervisor (free page reporting) every
// such page costs the host's work again when touched. Shared rather than kept by
// each worker, it holds no more buffers than were in use at once, so that the peak
// memory stays that of the mappings made for one segment each.
type bigPool struct {
	mu   sync.Mutex
	bufs []pooledBuf
}

type pooledBuf struct {
	b    []byte
	free func()
}

// bigRound is the step mapped buffers are rounded up to, so that a run of ever
// larger blobs does not map a new buffer for each.
const bigRound = 1 << 20

// get returns a buffer of at least n bytes, and nil when mapping fails (the
// heap then serves). Of the buffers free, it takes the smallest that holds n;
// when none does, the largest is handed back to the system and replaced.
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
	return pooledBuf{b: b, free: free}
}

// put gives a buffer from get back for another segment; nothing may refer to it.
func (p *bigPool) put(pb pooledBuf) {
	if pb.b == nil {
		return
	}
	p.mu.Lock()
	p.bufs = append(p.bufs, pb)
	p.mu.Unlock()
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
