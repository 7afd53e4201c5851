package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestoreRuns: small files whose blobs follow each other in a pack are read as runs
// (with small gaps of unrelated blobs between them, and large ones that end a run); every
// file is restored byte for byte. Then the pack is cut in the middle: the files whose blobs
// lie before the cut are still restored (each reads its own blob when its run's read
// fails), and only those after it are warned about.
func TestRestoreRuns(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	const files = 3*runFiles + 7
	want := map[string][]byte{}
	var nodes []*Node
	now := time.Now()
	for i := 0; i < files; i++ {
		b := randomBytes(100+i, 200+37*i)
		content, data := saveContent(t, r, [][]byte{b})
		name := fmt.Sprintf("f%04d", i)
		want[name] = data
		nodes = append(nodes, &Node{Name: name, Type: "file", Mode: 0o644, ModTime: now, Size: uint64(len(data)), Content: content})
		switch {
		case i%11 == 3: // a blob of no file in between: a gap a run reads over
			saveContent(t, r, [][]byte{randomBytes(5000+i, 3000)})
		case i%29 == 5: // a gap too large to read over
			saveContent(t, r, [][]byte{randomBytes(7000+i, 2*runGap)})
		}
	}
	root, err := r.SaveTree(&Tree{Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &Snapshot{Time: now, Tree: &root, Paths: []string{"/x"}, Hostname: "test"}
	restore := func() (string, []string) {
		out := t.TempDir()
		var warned []string
		if _, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Warn: func(p string, err error) {
			warned = append(warned, p+": "+err.Error())
		}}); err != nil {
			t.Fatal(err)
		}
		return out, warned
	}
	out, warned := restore()
	if len(warned) != 0 {
		t.Fatalf("warnings: %q", warned)
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(data) {
			t.Fatalf("%s: restored %d bytes differ from the snapshot's %d", name, len(got), len(data))
		}
	}

	// cut the pack inside the blob of the middle file
	mid := nodes[files/2]
	pb, ok := r.idx.Lookup(BlobHandle{ID: mid.Content[0], Type: DataBlob})
	if !ok {
		t.Fatal("the middle file's blob is not in the index")
	}
	cut := int64(pb.Offset) + int64(pb.Length)/2
	pack := filepath.Join(dir, "data", pb.PackID.String()[:2], pb.PackID.String())
	if err := os.Truncate(pack, cut); err != nil {
		t.Fatal(err)
	}
	out, warned = restore()
	var lost, kept int
	for _, n := range nodes {
		npb, _ := r.idx.Lookup(BlobHandle{ID: n.Content[0], Type: DataBlob})
		if npb.PackID == pb.PackID && int64(npb.Offset)+int64(npb.Length) > cut {
			lost++
			continue
		}
		kept++
		got, err := os.ReadFile(filepath.Join(out, n.Name))
		if err != nil || string(got) != string(want[n.Name]) {
			t.Errorf("%s: its blob lies before the cut, and it was not restored as it was (%v)", n.Name, err)
		}
	}
	if kept < runFiles || lost < runFiles {
		t.Fatalf("%d files before the cut and %d after: the test wants runs on both sides", kept, lost)
	}
	if len(warned) != lost {
		t.Fatalf("%d warnings, want %d (one for each file whose blob lies after the cut): %s", len(warned), lost, strings.Join(warned, "\n"))
	}
}
