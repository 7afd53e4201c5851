package repo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestoreWarnsSizeMismatch: a file whose recorded size is not its content's is
// restored with its content and named in a warning; files of several segments get
// every segment at its offset.
func TestRestoreWarnsSizeMismatch(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	file := make([][]byte, 3*blobsPerSegment+1)
	for i := range file {
		file[i] = randomBytes(10+i, 1000+i)
	}
	content, data := saveContent(t, r, file)
	now := time.Now()
	tree := &Tree{Nodes: []*Node{
		{Name: "right", Type: "file", Mode: 0o644, ModTime: now, Size: uint64(len(data)), Content: content},
		{Name: "wrong", Type: "file", Mode: 0o644, ModTime: now, Size: uint64(len(data)) + 1, Content: content},
		{Name: "empty", Type: "file", Mode: 0o644, ModTime: now},
	}}
	root, err := r.SaveTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &Snapshot{Time: now, Tree: &root, Paths: []string{"/x"}, Hostname: "test"}
	out := t.TempDir()
	var warned []string
	res, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Warn: func(p string, err error) {
		warned = append(warned, p+": "+err.Error())
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "wrong") || !strings.Contains(warned[0], "differs from the recorded") {
		t.Fatalf("warnings %q, want one about the size of wrong", warned)
	}
	if res.Files != 3 {
		t.Fatalf("%d files restored, want 3", res.Files)
	}
	for name, want := range map[string][]byte{"right": data, "wrong": data, "empty": nil} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s: restored %d bytes differ from the snapshot's %d", name, len(got), len(want))
		}
	}
}

// TestRestoreBigBlobs: files made of blobs above 2 MiB, stored compressed (decompressed
// into memory mapped for their segment) and as they are (read into such memory), beside
// small ones, in segments where a larger blob replaces the mapping and where one serves
// several blobs, are restored byte for byte.
func TestRestoreBigBlobs(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	r := openTestRepo(t, NewFolder(dir))
	r.StartSaving(ctx, 1)
	text := func(seed, n int) []byte {
		// compressible, and different for every seed
		b := randomBytes(seed, n)
		for i := range b {
			b[i] = 'a' + b[i]%4
		}
		return b
	}
	const mib = 1 << 20
	files := [][][]byte{
		{text(1, 3*mib), text(2, 5*mib), text(3, 3*mib+7), randomBytes(4, 1000)},
		{randomBytes(5, 100), text(6, 2*mib+1), randomBytes(7, 3*mib), text(8, 4*mib), text(9, 6*mib), randomBytes(10, 9)},
		{text(11, 2*mib-64), randomBytes(12, 2*mib+100)},
	}
	now := time.Now()
	tree := &Tree{}
	var datas [][]byte
	for i, blobs := range files {
		content, data := saveContent(t, r, blobs)
		datas = append(datas, data)
		tree.Nodes = append(tree.Nodes, &Node{Name: fmt.Sprintf("f%d", i), Type: "file", Mode: 0o644, ModTime: now, Size: uint64(len(data)), Content: content})
	}
	root, err := r.SaveTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// the setup is what it says: big blobs stored compressed, and big ones stored as they are
	var compressed, stored int
	for _, blobs := range files {
		for _, b := range blobs {
			pb, ok := r.idx.Lookup(BlobHandle{ID: Hash(b), Type: DataBlob})
			switch {
			case !ok:
				t.Fatal("a blob is not in the index")
			case len(b) > keepScratch && pb.UncompressedLength != 0 && int(pb.Length) < keepScratch:
				compressed++
			case len(b) > keepScratch && pb.UncompressedLength == 0:
				stored++
			}
		}
	}
	if compressed < 5 || stored < 2 {
		t.Fatalf("%d big blobs stored compressed, %d as they are: the test needs more", compressed, stored)
	}
	sn := &Snapshot{Time: now, Tree: &root, Paths: []string{"/x"}, Hostname: "test"}
	out := t.TempDir()
	res, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Warn: func(p string, err error) { t.Errorf("%s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != len(files) {
		t.Fatalf("%d files restored, want %d", res.Files, len(files))
	}
	for i, want := range datas {
		got, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("f%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("f%d: restored %d bytes differ from the snapshot's %d", i, len(got), len(want))
		}
	}
}
