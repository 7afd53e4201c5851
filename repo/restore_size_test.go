package repo

import (
	"context"
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
