package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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
	var out []PackedBlob
	sup, err := DecodeIndexStream(bytes.NewReader(b), func(pb PackedBlob) error {
		out = append(out, pb)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, sup, nil
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

// maxIndexBlobs bounds the blobs of a whole index held in memory (about 180 bytes each
// in Index today).
const maxIndexBlobs = 2_000_000

// indexBudget bounds the stored index files held at once while loading.
const indexBudget = 96 << 20

func (r *Repository) loadIndex(ctx context.Context) error {
	type file struct {
		id   ID
		size int64
	}
	var files []file
	err := r.st.List(ctx, IndexFile, func(name string, size int64) error {
		id, err := ParseID(name)
		if err == nil {
			files = append(files, file{id, size})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing index files: %w", err)
	}
	idx := NewIndex()
	var total atomic.Int64
	budget := newByteBudget(indexBudget)
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	// the first error stops the other readers
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for i, f := range files {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		size := min(max(f.size, 0), maxIndexFile)
		budget.acquire(size)
		go func() {
			defer func() { budget.release(size); <-sem; wg.Done() }()
			err := r.readIndexFile(ctx, f.id, f.size, func(batch []PackedBlob) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				if total.Add(int64(len(batch))) > maxIndexBlobs {
					return fmt.Errorf("the index lists more than %d blobs, more than travelkit holds in memory: %w", maxIndexBlobs, ErrTooLarge)
				}
				idx.mu.Lock()
				for _, b := range batch {
					idx.add(b)
				}
				idx.mu.Unlock()
				return nil
			})
			if err != nil {
				errs[i] = fmt.Errorf("index %s: %w", f.id, err)
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	for _, f := range files {
		idx.files = append(idx.files, f.id)
	}
	r.idx = idx
	r.idxLoaded = true
	return nil
}

// readIndexFile streams one index file into add, in batches.
func (r *Repository) readIndexFile(ctx context.Context, id ID, size int64, add func([]PackedBlob) error) error {
	rd, done, err := r.openUnpackedFile(ctx, IndexFile, id, size)
	if err != nil {
		return err
	}
	defer done()
	batch := make([]PackedBlob, 0, 4096)
	_, err = DecodeIndexStream(&capReader{r: rd, left: maxIndexPlain, what: "the index file"}, func(pb PackedBlob) error {
		batch = append(batch, pb)
		if len(batch) == cap(batch) {
			err := add(batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = add(batch)
	}
	return err
}

// capReader fails, naming what it reads, after left bytes.
type capReader struct {
	r    io.Reader
	left int64
	what string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("%s decompresses to more than %s: %w", c.what, formatSize(maxIndexPlain), ErrTooLarge)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
