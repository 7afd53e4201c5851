package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestBackupResticReads(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 1)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Fatalf("%d errors", res.Errors)
	}
	resticCmd(t, dir, "check", "--read-data")
	out := filepath.Join(t.TempDir(), "out")
	resticCmd(t, dir, "restore", "latest", "--target", out)
	compareTrees(t, snapshotTree(t, src), snapshotTree(t, filepath.Join(out, src)))

	out2 := filepath.Join(t.TempDir(), "out2")
	r2 := openTestRepo(t, NewFolder(dir))
	sn, err := r2.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	rr, err := r2.Restore(ctx, sn, RestoreOptions{Target: out2, Verify: true, Warn: func(p string, err error) { t.Errorf("%s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	_ = rr
	compareTrees(t, snapshotTree(t, src), snapshotTree(t, filepath.Join(out2, src)))
	_ = os.Remove
}
