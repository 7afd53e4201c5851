package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Index maps blobs to their place in pack files.
type Index struct {
	mu      sync.RWMutex
	blobs   map[BlobHandle]int32 // first entry for the blob
	entries []PackedBlob
	packs   map[ID]struct{}
	files   []ID
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{blobs: map[BlobHandle]int32{}, packs: map[ID]struct{}{}}
}

// Add records a blob location.
func (x *Index) Add(pb PackedBlob) {
	x.mu.Lock()
	x.add(pb)
	x.mu.Unlock()
}

func (x *Index) add(pb PackedBlob) {
	if _, ok := x.blobs[pb.BlobHandle]; !ok {
		x.blobs[pb.BlobHandle] = int32(len(x.entries))
	}
	x.entries = append(x.entries, pb)
	x.packs[pb.PackID] = struct{}{}
}

// Lookup returns where a blob is stored.
func (x *Index) Lookup(h BlobHandle) (PackedBlob, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i, ok := x.blobs[h]
	if !ok {
		return PackedBlob{}, false
	}
	return x.entries[i], true
}

// Has reports whether the blob is in the index.
func (x *Index) Has(h BlobHandle) bool {
	x.mu.RLock()
	_, ok := x.blobs[h]
	x.mu.RUnlock()
	return ok
}

// Each calls fn for every entry, duplicates included.
func (x *Index) Each(fn func(PackedBlob)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range x.entries {
		fn(e)
	}
}

// Packs returns the set of packs the index mentions.
func (x *Index) Packs() map[ID]struct{} {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := make(map[ID]struct{}, len(x.packs))
	for k := range x.packs {
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
	return len(x.blobs)
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
