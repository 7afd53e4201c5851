package repo

import (
	"context"
	"fmt"

	"travelkit/internal/bytesize"
)

// PruneStats says what prune did.
type PruneStats struct {
	PacksDeleted   int
	PacksRepacked  int
	PacksKept      int
	BlobsRemoved   int
	BytesFreed     int64
	OrphanedPacks  int
	IndexFilesNew  int
	IndexFilesGone int
}

// Prune removes data no snapshot uses. Call it with an exclusive lock held.
// New packs and the new index are written before anything is deleted, so an
// interruption leaves a consistent repository.
func (r *Repository) Prune(ctx context.Context) (*PruneStats, error) {
	if err := r.LoadIndex(ctx); err != nil {
		return nil, fmt.Errorf("prune needs a readable index: %w", err)
	}
	if tr, ok := r.st.(TempRemover); ok {
		if err := tr.RemoveTemps(ctx); err != nil {
			return nil, err
		}
	}
	used, err := r.usedBlobs(ctx)
	if err != nil {
		return nil, err
	}
	st := &PruneStats{}
	plan, err := r.planPrune(ctx, used, st)
	if err != nil {
		return nil, err
	}
	if len(plan.drop) == 0 {
		return st, nil
	}
	if err := r.repack(ctx, plan); err != nil {
		return nil, err
	}
	oldFiles, err := r.writeNewIndex(ctx, plan, st)
	if err != nil {
		return nil, err
	}
	return st, r.removeOld(ctx, oldFiles, plan.drop, st)
}

// usedBlobs is step 1: the blobs the snapshots use, every one of them in the index. It
// refuses a snapshot it cannot read, whose data would otherwise be deleted as unused.
func (r *Repository) usedBlobs(ctx context.Context) (map[BlobHandle]bool, error) {
	used := map[BlobHandle]bool{}
	sns, bad, err := r.LoadSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		// its data would be deleted as unused
		return nil, fmt.Errorf("refusing to prune: %v (run check)", bad[0])
	}
	for _, sn := range sns {
		// every tree once: a tree already marked used has had its content marked
		var stack int64
		err := r.walkTrees(ctx, *sn.Tree, used, 0, &stack, func(n *Node) {
			for _, id := range n.Content {
				used[BlobHandle{ID: id, Type: DataBlob}] = true
			}
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot %s cannot be read, refusing to prune (run check): %w", sn.ID.Str(), err)
		}
	}
	for h := range used {
		if !r.idx.Has(h) {
			return nil, fmt.Errorf("%s blob %s is used but missing from the index, refusing to prune (run check)", h.Type, h.ID.Str())
		}
	}
	return used, nil
}

// prunePlan is what step 2 decided.
type prunePlan struct {
	old    *Index       // the index before the prune
	newIdx *Index       // the blobs of the packs kept whole; repacked blobs are added as saved
	drop   []ID         // packs to delete: unused, partly used (after repacking) and orphaned
	repack []PackedBlob // used blobs of partly used packs, each once
}

// planPrune is step 2: it classifies the packs. A used blob is kept once, in its first
// location; a pack is kept whole, deleted, or repacked (its used blobs saved again) and
// deleted; packs the index does not name are orphans, deleted.
func (r *Repository) planPrune(ctx context.Context, used map[BlobHandle]bool, st *PruneStats) (*prunePlan, error) {
	plan := &prunePlan{old: r.idx, newIdx: NewIndex()}
	byPack := map[ID][]PackedBlob{}
	var packOrder []ID
	plan.old.Each(func(pb PackedBlob) {
		if _, ok := byPack[pb.PackID]; !ok {
			packOrder = append(packOrder, pb.PackID)
		}
		byPack[pb.PackID] = append(byPack[pb.PackID], pb)
	})
	keepAt := map[BlobHandle]ID{}
	for _, pid := range packOrder {
		for _, pb := range byPack[pid] {
			if used[pb.BlobHandle] {
				if _, ok := keepAt[pb.BlobHandle]; !ok {
					keepAt[pb.BlobHandle] = pid
				}
			}
		}
	}
	sizes := map[ID]int64{}
	if err := r.st.List(ctx, PackFile, func(name string, size int64) error {
		if id, err := ParseID(name); err == nil {
			sizes[id] = size
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, pid := range packOrder {
		var keepN, total int
		for _, pb := range byPack[pid] {
			total++
			if keepAt[pb.BlobHandle] == pid {
				keepN++
			}
		}
		switch {
		case keepN == total:
			st.PacksKept++
			seen := map[BlobHandle]bool{}
			for _, pb := range byPack[pid] {
				if !seen[pb.BlobHandle] {
					seen[pb.BlobHandle] = true
					plan.newIdx.add(pb)
				}
			}
		case keepN == 0:
			st.PacksDeleted++
			st.BlobsRemoved += total
			plan.drop = append(plan.drop, pid)
			st.BytesFreed += sizes[pid]
		default:
			st.PacksRepacked++
			st.BlobsRemoved += total - keepN
			plan.drop = append(plan.drop, pid)
			st.BytesFreed += sizes[pid]
			for _, pb := range byPack[pid] {
				if keepAt[pb.BlobHandle] == pid {
					plan.repack = append(plan.repack, pb)
					keepAt[pb.BlobHandle] = ID{} // once
				}
			}
		}
	}
	for id, size := range sizes {
		if _, ok := byPack[id]; !ok {
			st.OrphanedPacks++
			st.BytesFreed += size
			plan.drop = append(plan.drop, id)
		}
	}
	return plan, nil
}

// repack is step 3: it saves the blobs still used from partly used packs into new packs,
// read through the old index. On an error the old index is the repository's again.
func (r *Repository) repack(ctx context.Context, plan *prunePlan) error {
	r.idx = plan.newIdx
	if len(plan.repack) == 0 {
		return nil
	}
	r.StartSaving(ctx, 1)
	var buf []byte
	for _, pb := range plan.repack {
		p, err := r.loadFromIndex(ctx, plan.old, pb, buf)
		if err != nil {
			r.Abort()
			r.idx = plan.old
			return fmt.Errorf("repacking: %w", err)
		}
		if _, err := r.SaveBlob(pb.Type, pb.ID, p, nil); err != nil {
			r.Abort()
			r.idx = plan.old
			return err
		}
		buf = p
	}
	if err := r.Flush(ctx); err != nil {
		r.idx = plan.old
		return err
	}
	return nil
}

// writeNewIndex is step 4: one complete new index. It returns the index files it
// replaces; on an error the old index is the repository's again and nothing was deleted.
func (r *Repository) writeNewIndex(ctx context.Context, plan *prunePlan, st *PruneStats) (oldFiles []ID, err error) {
	newIdx := plan.newIdx
	var all []PackedBlob
	newIdx.Each(func(pb PackedBlob) { all = append(all, pb) })
	oldFiles = append(plan.old.Files(), newIdx.Files()...)
	newIdx.files = nil
	if err := r.writeIndex(ctx, all); err != nil {
		r.idx = plan.old
		return nil, err
	}
	st.IndexFilesNew = len(newIdx.Files())
	return oldFiles, nil
}

// removeOld is step 5, once the new index is written: it removes the old index files,
// then the packs to drop.
func (r *Repository) removeOld(ctx context.Context, oldFiles, drop []ID, st *PruneStats) error {
	for _, id := range oldFiles {
		if err := r.st.Remove(ctx, Handle{IndexFile, id.String()}); err != nil && !IsNotExist(err) {
			return fmt.Errorf("failed to remove old index %s: %w", id.Str(), err)
		}
		st.IndexFilesGone++
	}
	for _, id := range drop {
		if err := r.st.Remove(ctx, Handle{PackFile, id.String()}); err != nil && !IsNotExist(err) {
			return fmt.Errorf("failed to remove pack %s: %w", id.Str(), err)
		}
	}
	return nil
}

func (r *Repository) loadFromIndex(ctx context.Context, idx *Index, pb PackedBlob, buf []byte) ([]byte, error) {
	return r.loadPacked(ctx, pb, buf)
}

// walkTrees visits every tree reachable from id once, marking it in seen (a visited
// set: a snapshot whose folders repeat inside each other is read in time proportional
// to its distinct trees), and calls fn for every node. Only the trees along one path
// are held.
func (r *Repository) walkTrees(ctx context.Context, id ID, seen map[BlobHandle]bool, depth int, stack *int64, fn func(*Node)) error {
	h := BlobHandle{ID: id, Type: TreeBlob}
	if seen[h] {
		return nil
	}
	if depth > MaxPathLen/2 {
		return fmt.Errorf("tree %s: folders nested more than %d deep: %w", id.Str(), MaxPathLen/2, ErrTooLarge)
	}
	seen[h] = true
	t, size, err := r.loadTreeSized(ctx, id)
	if err != nil {
		return err
	}
	if *stack+size > maxTreeStack {
		return fmt.Errorf("tree %s: the folders above it hold more than %s of listings: %w", id.Str(), bytesize.Format(maxTreeStack), ErrTooLarge)
	}
	*stack += size
	defer func() { *stack -= size }()
	for _, n := range t.Nodes {
		if err := ctx.Err(); err != nil {
			return err
		}
		fn(n)
		if n.Type == NodeDir && n.Subtree != nil {
			if err := r.walkTrees(ctx, *n.Subtree, seen, depth+1, stack, fn); err != nil {
				return err
			}
		}
	}
	return nil
}
