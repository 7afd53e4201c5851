package repo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// At GOMAXPROCS=1 there are two walker slots, so most folders of a wide tree
// are listed inline and wait for their files in finishTree while the walk goes
// on; a file of bigFile bytes is read first. Every file and folder must reach
// the snapshot: restored, the tree is the source's, and restic agrees. An
// incremental after changes in a few folders (the big file among them) gives
// the same tree again.
func TestBackupWalkGoesOnWhileFilesAreRead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := context.Background()
	r, dir := initTestRepo(t)
	src := t.TempDir()
	for i := range 6 {
		for j := range 4 {
			d := filepath.Join(src, fmt.Sprintf("d%d", i), fmt.Sprintf("e%d", j), "f")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				// some files need chunking (more than smallFile bytes), most do not
				data := bytes.Repeat([]byte(fmt.Sprintf("%d/%d/%d ", i, j, k)), 1+(i*j*k%3)*70000)
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file%d", k)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	big := make([]byte, bigFile+12345)
	for i := range big {
		big[i] = byte(i*7 + i/4093)
	}
	bigPath := filepath.Join(src, "d5", "e3", "big.img")
	if err := os.WriteFile(bigPath, big, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		if _, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out")
		resticCmd(t, dir, "restore", "latest", "--target", out)
		compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out, src)))
	}
	check()
	for _, p := range []string{bigPath, filepath.Join(src, "d0", "e1", "f", "file2"), filepath.Join(src, "d3", "e0", "f", "file0")} {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("changed")); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	check()
	mustCheck(t, openTestRepo(t, NewFolder(dir)))
}
