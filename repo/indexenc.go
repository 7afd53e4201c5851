package repo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
)

// Index files are written straight from the entries into JSON, byte for byte
// what encoding/json made of indexJSON: a backup's index file of 50,000 blobs
// took 12 MB of structures and encoder buffers on top of its 8 MB of text,
// at the peak of a backup of 100,000 files.

// The most bytes the JSON of a blob (with its comma), of a pack around its
// blobs, and of the file around its packs take: a buffer of that size is made
// once, never grown (growing held the old and the new array at once).
const (
	maxBlobJSON  = 161
	maxPackJSON  = 85
	maxIndexJSON = 12
)

// appendIndexBlob appends one blob's JSON object.
func appendIndexBlob(b []byte, id ID, t BlobType, offset, length, ulen uint32) ([]byte, error) {
	if t != DataBlob && t != TreeBlob {
		return nil, fmt.Errorf("invalid blob type %d", t)
	}
	b = append(b, `{"id":`...)
	b = appendID(b, id)
	b = append(b, `,"type":"`...)
	b = append(b, t.String()...)
	b = append(b, `","offset":`...)
	b = strconv.AppendUint(b, uint64(offset), 10)
	b = append(b, `,"length":`...)
	b = strconv.AppendUint(b, uint64(length), 10)
	if ulen != 0 {
		b = append(b, `,"uncompressed_length":`...)
		b = strconv.AppendUint(b, uint64(ulen), 10)
	}
	return append(b, '}'), nil
}

func appendPackStart(b []byte, first bool, pack ID) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, `{"id":`...)
	b = appendID(b, pack)
	return append(b, `,"blobs":[`...)
}

// appendIndexJSON appends the index file JSON of blobs, grouped by pack in
// order of appearance.
func appendIndexJSON(b []byte, blobs []PackedBlob) ([]byte, error) {
	// the blobs of each pack, in order: a chain through next
	first := map[ID]int{}
	last := map[ID]int{}
	var order []ID
	next := make([]int32, len(blobs))
	for i := range blobs {
		next[i] = -1
		p := blobs[i].PackID
		if j, ok := last[p]; ok {
			next[j] = int32(i)
		} else {
			first[p] = i
			order = append(order, p)
		}
		last[p] = i
	}
	b = slices.Grow(b, maxIndexJSON+len(order)*maxPackJSON+len(blobs)*maxBlobJSON)
	b = append(b, `{"packs":[`...)
	var err error
	for k, p := range order {
		b = appendPackStart(b, k == 0, p)
		for i := first[p]; i >= 0; i = int(next[i]) {
			if i != first[p] {
				b = append(b, ',')
			}
			pb := &blobs[i]
			if b, err = appendIndexBlob(b, pb.ID, pb.Type, pb.Offset, pb.Length, pb.UncompressedLength); err != nil {
				return nil, err
			}
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...), nil
}

// appendRunsJSON appends the index file JSON of runs of entries, each the
// blobs of one pack.
func appendRunsJSON(b []byte, runs []entryRun) ([]byte, error) {
	n := maxIndexJSON
	for _, r := range runs {
		n += maxPackJSON + (r.end-r.first)*maxBlobJSON
	}
	b = slices.Grow(b, n)
	b = append(b, `{"packs":[`...)
	var err error
	for k, r := range runs {
		r.x.mu.RLock()
		for i := r.first; i < r.end; i++ {
			e := r.x.entry(i)
			if i == r.first {
				b = appendPackStart(b, k == 0, r.x.packs[e.pack()])
			} else {
				b = append(b, ',')
			}
			if b, err = appendIndexBlob(b, e.id, e.typ(), e.offset, e.length, e.ulen); err != nil {
				break
			}
		}
		r.x.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...), nil
}

// writeRuns writes index files for runs, each of at most maxIndexEntries
// blobs (a run is split between two files when it must be).
func (r *Repository) writeRuns(ctx context.Context, runs []entryRun) error {
	for len(runs) > 0 {
		var file []entryRun
		n := 0
		for len(runs) > 0 && n < maxIndexEntries {
			run := runs[0]
			if take := maxIndexEntries - n; run.end-run.first > take {
				file = append(file, entryRun{x: run.x, first: run.first, end: run.first + take})
				runs[0].first += take
				n += take
				break
			}
			file = append(file, run)
			n += run.end - run.first
			runs = runs[1:]
		}
		buf, err := appendRunsJSON(nil, file)
		if err != nil {
			return err
		}
		if err := r.saveIndexFile(ctx, buf); err != nil {
			return err
		}
	}
	return nil
}

// saveIndexFile saves one index file's JSON and adds it to the index's files.
func (r *Repository) saveIndexFile(ctx context.Context, js []byte) error {
	id, err := r.SaveUnpacked(ctx, IndexFile, js)
	if err != nil {
		return fmt.Errorf("failed to save index: %w", err)
	}
	r.idx.mu.Lock()
	r.idx.files = append(r.idx.files, id)
	r.idx.mu.Unlock()
	return nil
}
