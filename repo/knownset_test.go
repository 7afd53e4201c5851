package repo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The known set finds every blob it was given and nothing else: not the same ID
// as the other type, not an ID that differs in one byte of either half; and it
// keeps a blob in at most 20 bytes.
func TestKnownSet(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	randomID := func() (id ID) {
		for j := range id {
			id[j] = byte(r.Uint32())
		}
		return id
	}
	s := newKnownSet()
	defer s.free()
	var added []BlobHandle
	for i := 0; i < 100_000; i++ {
		h := BlobHandle{ID: randomID(), Type: DataBlob}
		if i%5 == 0 {
			h.Type = TreeBlob
		}
		s.Add(h)
		added = append(added, h)
	}
	s.Add(added[3]) // again: still one blob
	if s.n != len(added) {
		t.Fatalf("%d blobs in the set, want %d", s.n, len(added))
	}
	for _, h := range added {
		if !s.Has(h) {
			t.Fatalf("%v added but not found", h)
		}
		other := h
		other.Type = DataBlob + TreeBlob - h.Type
		if s.Has(other) {
			t.Fatalf("%v found as the other type", h)
		}
		for _, at := range []int{0, 15, 16, 31} {
			near := h
			near.ID[at] ^= 1
			if s.Has(near) {
				t.Fatalf("an ID differing from %v in byte %d is found", h.ID, at)
			}
		}
	}
	for i := 0; i < 200_000; i++ {
		if h := (BlobHandle{ID: randomID(), Type: DataBlob}); s.Has(h) {
			t.Fatalf("%v was never added but is found", h)
		}
	}
	if per := float64(s.bytes()) / float64(s.n); per > 20 {
		t.Fatalf("%.1f bytes a blob, want at most 20", per)
	}
	// another process's set (another key) keeps other tags
	s2 := newKnownSet()
	if p1, t1 := s.tag(added[0]); true {
		if p2, t2 := s2.tag(added[0]); p1 == p2 && t1 == t2 {
			t.Fatal("two sets made the same tag: the key is not random")
		}
	}
}

// A backup that writes many index files keeps the blobs of written ones only in
// its known set, and still stores each blob once: files whose content repeats
// after their first copy's index file was written are not stored again. After
// it, the repository's index is loaded again when needed: the next backup in
// the same process stores nothing new, and a restore and restic's check read
// everything.
func TestBackupKnownSet(t *testing.T) {
	defer func(n int, b int64) { maxIndexEntries, compactIndexBytes = n, b }(maxIndexEntries, compactIndexBytes)
	maxIndexEntries, compactIndexBytes = 16, 0
	ctx := context.Background()
	r, dir := initTestRepo(t)
	r.PackSize = 8 << 10
	src := filepath.Join(t.TempDir(), "src")
	rnd := rand.New(rand.NewPCG(1, 2))
	var contents [][]byte
	for d := 0; d < 8; d++ {
		folder := filepath.Join(src, fmt.Sprintf("d%d", d))
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := 0; f < 40; f++ {
			var b []byte
			if d >= 4 && f%2 == 0 {
				b = contents[rnd.IntN(len(contents))] // a copy of an earlier file
			} else {
				b = make([]byte, 500+rnd.IntN(3000))
				for i := range b {
					b[i] = byte(rnd.Uint32())
				}
				contents = append(contents, b)
			}
			if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("f%02d", f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	dataBlobs, _, _, _ := r.saverStats()
	if dataBlobs != len(contents) {
		t.Fatalf("%d data blobs stored, want %d (one per distinct content)", dataBlobs, len(contents))
	}
	if n := r.lastSaver.retired; n < len(contents)/2 {
		t.Fatalf("only %d blobs went into the known set", n)
	}
	if r.idxLoaded.Load() {
		t.Fatal("the repository's index lacks the backup's blobs but is not marked to be loaded again")
	}
	// the same files again, read in full: nothing new is stored
	res2, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h", NoParent: true})
	if err != nil {
		t.Fatal(err)
	}
	// The temporary folder is shared with other test processes, and its time
	// changes as they make and remove folders in it: the trees that list it and
	// its parents may be new, one for each of its path's parts (1 for /tmp, 4
	// for C:\users\root\Temp under Wine), but nothing at or below src.
	shared := len(strings.Split(strings.TrimPrefix(SnapshotPath(os.TempDir()), "/"), "/"))
	if d, tr, _, _ := r.saverStats(); d != 0 || tr > shared {
		t.Fatalf("the second backup stored %d data and %d tree blobs, want none (and at most the %d trees above %s)", d, tr, shared, os.TempDir())
	}
	if a, b := subtreeAt(t, r, res.Snapshot, src), subtreeAt(t, r, res2.Snapshot, src); a != b {
		t.Fatalf("the same files backed up again have another tree: %v, then %v", a, b)
	}
	// every blob once in the index files
	r2 := openTestRepo(t, NewFolder(dir))
	entries := 0
	r2.idx.Each(func(PackedBlob) { entries++ })
	if entries != r2.idx.Len() {
		t.Fatalf("%d index entries for %d blobs: a blob was stored twice", entries, r2.idx.Len())
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := r.Restore(ctx, res.Snapshot, RestoreOptions{Target: out}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out, src)))
	cr, err := r2.Check(ctx, CheckOptions{ReadData: true})
	if err != nil || !cr.OK() {
		t.Fatalf("check: %v %v", err, cr.Errors)
	}
	resticCmd(t, dir, "check", "--read-data")

	// an index loaded for a backup knows the data blobs without their places,
	// the trees with theirs; the incremental stores nothing, and the index is
	// complete again after it
	r3 := openForBackup(t, NewFolder(dir))
	if r3.idx.known == nil || r3.idx.known.n != len(contents) || r3.idx.Len() != r2.idx.Len() {
		t.Fatalf("an index loaded for a backup does not keep its %d data blobs compact", len(contents))
	}
	some := BlobHandle{ID: Hash(contents[0]), Type: DataBlob}
	if _, ok := r3.idx.Lookup(some); ok || !r3.idx.Has(some) {
		t.Fatal("a data blob of an index loaded for a backup: Lookup must not find it, Has must")
	}
	if _, ok := r3.idx.Lookup(BlobHandle{ID: *res.Snapshot.Tree, Type: TreeBlob}); !ok {
		t.Fatal("a tree of an index loaded for a backup has no place")
	}
	if err := os.WriteFile(filepath.Join(src, "d0", "new"), []byte("new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	res3, err := r3.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if d, _, _, _ := r3.saverStats(); res3.Parent == nil || d != 1 {
		t.Fatalf("the incremental stored %d data blobs, want 1 (parent %v)", d, res3.Parent)
	}
	out3 := filepath.Join(t.TempDir(), "out")
	if _, err := r3.Restore(ctx, res3.Snapshot, RestoreOptions{Target: out3}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out3, src)))
	if r3.idx.known != nil {
		t.Fatal("the index was not loaded in full after the backup")
	}
	// an index smaller than compactIndexBytes stays whole
	compactIndexBytes = 1 << 40
	r4 := openForBackup(t, NewFolder(dir))
	if r4.idx.known != nil {
		t.Fatal("a small index was kept compact")
	}
}

// subtreeAt is the ID of the tree of the folder path (as backed up) in snap.
func subtreeAt(t *testing.T, r *Repository, snap *Snapshot, path string) ID {
	t.Helper()
	id := *snap.Tree
	for _, name := range strings.Split(strings.TrimPrefix(SnapshotPath(path), "/"), "/") {
		tree, err := r.LoadTree(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range tree.Nodes {
			if n.Name == name && n.Subtree != nil {
				id, found = *n.Subtree, true
				break
			}
		}
		if !found {
			t.Fatalf("no folder %q on the path %s in the snapshot", name, path)
		}
	}
	return id
}
