package repo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Index maps blobs to their place in pack files. It is compact, because a
// home folder of a million files has a million blobs: pack IDs are kept once
// in a table, entries in one flat slice (about 52 bytes each), and lookups go
// through an open-addressing table of entry numbers (8 bytes per blob).
type Index struct {
	mu      sync.RWMutex
	entries []indexEntry // every entry, duplicates included
	slots   []int32      // entry number + 1 of the first entry per blob; 0 is empty
	blobs   int          // distinct blobs
	packs   []ID
	packNum map[ID]int32
	files   []ID
}

type indexEntry struct {
	id     ID
	pack   int32
	offset uint32
	length uint32
	ulen   uint32
	typ    BlobType
}

func (e *indexEntry) handle() BlobHandle { return BlobHandle{ID: e.id, Type: e.typ} }

func (x *Index) blob(e *indexEntry) PackedBlob {
	return PackedBlob{BlobHandle: e.handle(), PackID: x.packs[e.pack], Offset: e.offset,
		Length: e.length, UncompressedLength: e.ulen}
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{packNum: map[ID]int32{}}
}

// Add records a blob location.
func (x *Index) Add(pb PackedBlob) {
	x.mu.Lock()
	x.add(pb)
	x.mu.Unlock()
}

// slotOf hashes a handle to its first probe position (IDs are SHA-256: any
// eight of their bytes are as good as a hash).
func slotOf(h BlobHandle, mask int) int {
	return int((binary.LittleEndian.Uint64(h.ID[:8]) ^ uint64(h.Type)*0x9E3779B97F4A7C15) & uint64(mask))
}

// find returns the slot holding h, or the empty slot where it would go.
func (x *Index) find(h BlobHandle) (int, bool) {
	mask := len(x.slots) - 1
	for i := slotOf(h, mask); ; i = (i + 1) & mask {
		n := x.slots[i]
		if n == 0 {
			return i, false
		}
		if e := &x.entries[n-1]; e.id == h.ID && e.typ == h.Type {
			return i, true
		}
	}
}

func (x *Index) grow() {
	size := max(1024, 2*len(x.slots))
	x.slots = make([]int32, size)
	for i := range x.entries {
		if j, ok := x.find(x.entries[i].handle()); !ok {
			x.slots[j] = int32(i + 1)
		}
	}
}

func (x *Index) add(pb PackedBlob) {
	if 2*(x.blobs+1) > len(x.slots) {
		x.grow()
	}
	pn, ok := x.packNum[pb.PackID]
	if !ok {
		pn = int32(len(x.packs))
		x.packs = append(x.packs, pb.PackID)
		x.packNum[pb.PackID] = pn
	}
	x.entries = append(x.entries, indexEntry{id: pb.ID, typ: pb.Type, pack: pn, offset: pb.Offset,
		length: pb.Length, ulen: pb.UncompressedLength})
	if j, ok := x.find(pb.BlobHandle); !ok {
		x.slots[j] = int32(len(x.entries))
		x.blobs++
	}
}

// Lookup returns where a blob is stored.
func (x *Index) Lookup(h BlobHandle) (PackedBlob, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.slots) == 0 {
		return PackedBlob{}, false
	}
	i, ok := x.find(h)
	if !ok {
		return PackedBlob{}, false
	}
	return x.blob(&x.entries[x.slots[i]-1]), true
}

// Has reports whether the blob is in the index.
func (x *Index) Has(h BlobHandle) bool {
	x.mu.RLock()
	ok := false
	if len(x.slots) > 0 {
		_, ok = x.find(h)
	}
	x.mu.RUnlock()
	return ok
}

// Each calls fn for every entry, duplicates included.
func (x *Index) Each(fn func(PackedBlob)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for i := range x.entries {
		fn(x.blob(&x.entries[i]))
	}
}

// Packs returns the set of packs the index mentions.
func (x *Index) Packs() map[ID]struct{} {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := make(map[ID]struct{}, len(x.packs))
	for _, k := range x.packs {
		m[k] = struct{}{}
	}
	return m
}

// Files returns the index files loaded into x.
func (x *Index) Files() []ID {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]ID(nil), x.files...)
}

// Len returns the number of distinct blobs.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.blobs
}

type indexBlobJSON struct {
	ID                 ID       `json:"id"`
	Type               BlobType `json:"type"`
	Offset             uint32   `json:"offset"`
	Length             uint32   `json:"length"`
	UncompressedLength uint32   `json:"uncompressed_length,omitempty"`
}

type indexPackJSON struct {
	ID    ID              `json:"id"`
	Blobs []indexBlobJSON `json:"blobs"`
}

type indexJSON struct {
	Supersedes []ID            `json:"supersedes,omitempty"`
	Packs      []indexPackJSON `json:"packs"`
}

// DecodeIndex parses an index file's plaintext.
func DecodeIndex(b []byte) ([]PackedBlob, []ID, error) {
	var j indexJSON
	if err := json.Unmarshal(b, &j); err != nil {
		// restic before 0.8 wrote a bare array of packs
		var old []indexPackJSON
		if err2 := json.Unmarshal(b, &old); err2 != nil {
			return nil, nil, fmt.Errorf("invalid index: %w", err)
		}
		j.Packs = old
	}
	var out []PackedBlob
	for _, p := range j.Packs {
		for _, b := range p.Blobs {
			if b.Type != DataBlob && b.Type != TreeBlob {
				return nil, nil, errors.New("invalid index: bad blob type")
			}
			if b.Length < Overhead {
				return nil, nil, errors.New("invalid index: blob length too small")
			}
			out = append(out, PackedBlob{BlobHandle: BlobHandle{ID: b.ID, Type: b.Type}, PackID: p.ID,
				Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength})
		}
	}
	return out, j.Supersedes, nil
}

// EncodeIndex writes index file JSON for blobs, grouped by pack in order of appearance.
func EncodeIndex(blobs []PackedBlob) ([]byte, error) {
	j := indexJSON{Packs: []indexPackJSON{}}
	pos := map[ID]int{}
	for _, b := range blobs {
		i, ok := pos[b.PackID]
		if !ok {
			i = len(j.Packs)
			pos[b.PackID] = i
			j.Packs = append(j.Packs, indexPackJSON{ID: b.PackID})
		}
		j.Packs[i].Blobs = append(j.Packs[i].Blobs, indexBlobJSON{ID: b.ID, Type: b.Type,
			Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength})
	}
	return json.Marshal(j)
}

// ensureIndex loads the index on first use: commands that read no blobs (snapshots,
// forget without prune, unlock) never pay for it.
func (r *Repository) ensureIndex(ctx context.Context) error {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	if r.idxLoaded {
		return nil
	}
	return r.loadIndex(ctx)
}

// LoadIndex reads every index file into the repository's index.
func (r *Repository) LoadIndex(ctx context.Context) error {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	return r.loadIndex(ctx)
}

func (r *Repository) loadIndex(ctx context.Context) error {
	var ids []ID
	err := r.st.List(ctx, IndexFile, func(name string, size int64) error {
		id, err := ParseID(name)
		if err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing index files: %w", err)
	}
	idx := NewIndex()
	type res struct {
		id    ID
		blobs []PackedBlob
		err   error
	}
	ch := make(chan res)
	sem := make(chan struct{}, 4)
	go func() {
		for _, id := range ids {
			sem <- struct{}{}
			go func(id ID) {
				defer func() { <-sem }()
				b, err := r.LoadUnpacked(ctx, IndexFile, id)
				var blobs []PackedBlob
				if err == nil {
					blobs, _, err = DecodeIndex(b)
				}
				ch <- res{id, blobs, err}
			}(id)
		}
	}()
	var firstErr error
	for range ids {
		rs := <-ch
		if rs.err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("index %s: %w", rs.id, rs.err)
			}
			continue
		}
		idx.mu.Lock()
		for _, b := range rs.blobs {
			idx.add(b)
		}
		idx.files = append(idx.files, rs.id)
		idx.mu.Unlock()
	}
	if firstErr != nil {
		return firstErr
	}
	r.idx = idx
	r.idxLoaded = true
	return nil
}
