package repo

import (
	"context"
	"testing"
)

// RefreshIndex keeps an index whose files are still the repository's, and loads it again
// when another command added an index file or removed one (a prune) since.
func TestRefreshIndex(t *testing.T) {
	ctx := context.Background()
	w, dir := initTestRepo(t)
	save := func(s string) ID {
		t.Helper()
		w.StartSaving(ctx, 1)
		ids, _ := saveContent(t, w, [][]byte{[]byte(s)})
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}
	first := save("the first blob")
	r := openTestRepo(t, NewFolder(dir))
	idx := r.idx
	if err := r.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if r.idx != idx {
		t.Fatal("an unchanged index was loaded again")
	}

	second := save("another command's blob")
	if r.Known(BlobHandle{ID: second, Type: DataBlob}) {
		t.Fatal("the new blob is known before the refresh")
	}
	if err := r.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if r.idx == idx || !r.Known(BlobHandle{ID: second, Type: DataBlob}) || !r.Known(BlobHandle{ID: first, Type: DataBlob}) {
		t.Fatal("the index was not loaded again after a new index file")
	}

	// a prune's end: the first index file gone
	r.idx.mu.RLock()
	gone := r.idx.files[0]
	r.idx.mu.RUnlock()
	if err := NewFolder(dir).Remove(ctx, Handle{IndexFile, gone.String()}); err != nil {
		t.Fatal(err)
	}
	idx = r.idx
	if err := r.RefreshIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if r.idx == idx || len(r.idx.files) != 1 {
		t.Fatalf("the index was not loaded again after an index file was removed (%d files)", len(r.idx.files))
	}
}
