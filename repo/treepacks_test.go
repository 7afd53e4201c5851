package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// With GOMAXPROCS of 4 or more, trees go into more than one streamed pack
// (one per four procs), each filled by one walker at a time; every pack is
// finished by Flush, and travelkit and restic read all the trees. A backup
// of many folders at GOMAXPROCS=8 checks clean with both.
func TestTreePacksPerWalkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	if treePacks(8) < 2 || treePacks(2) != 1 {
		t.Fatalf("treePacks(8) = %d, treePacks(2) = %d: want 2 or more, and 1", treePacks(8), treePacks(2))
	}
	ctx := context.Background()
	r, dir := initTestRepo(t)
	r.StartSaving(ctx, 1)
	if n := cap(r.saver.trees); n != treePacks(8) {
		t.Fatalf("%d tree packs, want %d", n, treePacks(8))
	}
	// hold one tree scratch while saving a tree, then the other: the two
	// trees must land in different packs
	var ids []ID
	save := func(name string) {
		held := <-r.saver.trees
		id, err := r.SaveTree(&Tree{Nodes: []*Node{{Name: name, Type: NodeFile, Mode: 0o644}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		r.saver.trees <- held
	}
	save("one")
	save("two")
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r = openTestRepo(t, NewFolder(dir))
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	packs := map[ID]bool{}
	for _, id := range ids {
		pb, ok := r.idx.Lookup(BlobHandle{ID: id, Type: TreeBlob})
		if !ok {
			t.Fatalf("tree %s not in the index", id)
		}
		packs[pb.PackID] = true
		if _, err := r.LoadTree(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if len(packs) != 2 {
		t.Fatalf("the two trees are in %d packs, want 2", len(packs))
	}

	src := t.TempDir()
	for i := range 200 {
		d := filepath.Join(src, fmt.Sprintf("d%03d", i/20), fmt.Sprintf("e%03d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(fmt.Sprint("file ", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, openTestRepo(t, NewFolder(dir)))
	resticCmd(t, dir, "check", "--read-data")
}
