package repo

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"travelkit/internal/homedata"
)

func backup(t *testing.T, r *Repository, src string, when time.Time) *Snapshot {
	t.Helper()
	res, err := r.Backup(context.Background(), BackupOptions{Paths: []string{src}, Host: "test", Time: when,
		Warn: func(p string, err error) { t.Errorf("backup %s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	return res.Snapshot
}

func restoreWith(t *testing.T, r *Repository, snap, out string) {
	t.Helper()
	ctx := context.Background()
	sn, err := r.FindSnapshot(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Restore(ctx, sn, RestoreOptions{Target: out, Verify: true,
		Warn: func(p string, err error) { t.Errorf("restore %s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
}

func mustCheck(t *testing.T, r *Repository) {
	t.Helper()
	res, err := r.Check(context.Background(), CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		t.Errorf("check: %v", e)
	}
}

func mutate(t *testing.T, src string, round int) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(src, "docs", "text.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Repeat("appended line\n", 1000*round))
	f.Close()
	os.WriteFile(filepath.Join(src, "new-"+string(rune('a'+round))), []byte(strings.Repeat("x", 5000*round)), 0o640)
	os.Remove(filepath.Join(src, "docs", "deep", "small"))
	os.Chmod(filepath.Join(src, "docs", "big.bin"), 0o600)
}

// Several travelkit backups, forget --prune, then restic check --read-data
// and restic restore give the source tree back.
func TestInteropTravelkitWritesResticReads(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 1)
	day := time.Date(2025, 1, 1, 10, 0, 0, 0, time.Local)
	backup(t, r, src, day)
	for i := 1; i <= 3; i++ {
		mutate(t, src, i)
		backup(t, r, src, day.AddDate(0, 0, i))
	}
	want := snapshotTree(t, src)

	r = openTestRepo(t, NewFolder(dir))
	groups, err := r.Forget(ctx, ForgetPolicy{Last: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || len(groups[0].Remove) != 2 {
		t.Fatalf("forget: %+v", groups)
	}
	st, err := r.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.PacksDeleted+st.PacksRepacked == 0 {
		t.Errorf("prune removed nothing: %+v", st)
	}
	resticCmd(t, dir, "check", "--read-data")
	out := filepath.Join(t.TempDir(), "out")
	resticCmd(t, dir, "restore", "latest", "--target", out)
	compareTrees(t, want, snapshotTree(t, restoredPath(out, src)))

	r = openTestRepo(t, NewFolder(dir))
	mustCheck(t, r)
	out2 := filepath.Join(t.TempDir(), "out2")
	restoreWith(t, r, "latest", out2)
	compareTrees(t, want, snapshotTree(t, restoredPath(out2, src)))
	// neither restic nor travelkit records hard links on Windows, where a file's
	// metadata carries no inode number
	for _, o := range []string{out, out2} {
		if runtime.GOOS == "windows" {
			break
		}
		if !sameFile(t, filepath.Join(restoredPath(o, src), "dup1"), filepath.Join(restoredPath(o, src), "hardlink")) {
			t.Errorf("hard link not restored in %s", o)
		}
	}
}

// Repositories made by restic, with compression on and off, restore
// identically with travelkit and pass its check --read-data.
func TestInteropResticWritesTravelkitReads(t *testing.T) {
	for _, comp := range []string{"auto", "off"} {
		t.Run(comp, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			resticCmd(t, dir, "init")
			src := filepath.Join(t.TempDir(), "src")
			makeTree(t, src, 2)
			resticCmd(t, dir, "backup", "--compression", comp, "--host", "test", src)
			mutate(t, src, 1)
			resticCmd(t, dir, "backup", "--compression", comp, "--host", "test", src)
			r := openTestRepo(t, NewFolder(dir))
			mustCheck(t, r)
			out := filepath.Join(t.TempDir(), "out")
			restoreWith(t, r, "latest", out)
			compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out, src)))
		})
	}
}

// restic and travelkit back up into the same repository in turn.
func TestInteropAlternate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	resticCmd(t, dir, "init")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 3)
	resticCmd(t, dir, "backup", "--host", "test", src)
	for i := 1; i <= 2; i++ {
		mutate(t, src, i)
		r := openTestRepo(t, NewFolder(dir))
		sn := backup(t, r, src, time.Now())
		if sn.Parent == nil {
			t.Errorf("round %d: travelkit did not use restic's snapshot as parent", i)
		}
		resticCmd(t, dir, "check", "--read-data")
		out := filepath.Join(t.TempDir(), "out")
		resticCmd(t, dir, "restore", sn.ID.String(), "--target", out)
		compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out, src)))
		os.WriteFile(filepath.Join(src, "restic-round"), []byte{byte(i)}, 0o644)
		resticCmd(t, dir, "backup", "--host", "test", src)
		r = openTestRepo(t, NewFolder(dir))
		mustCheck(t, r)
		out2 := filepath.Join(t.TempDir(), "out2")
		restoreWith(t, r, "latest", out2)
		compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out2, src)))
	}
	_ = ctx
}

// The smallest many-file home folder of scripts/bench-million.sh (100,000
// files in about 3,400 folders, 520 MB): a travelkit backup, a no-change and
// a 1% incremental, then restic check --read-data and restic restore give the
// tree back exactly, and travelkit restores it too. About two minutes on two
// cores; skipped with -short.
func TestInteropManyFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 files: skipped with -short")
	}
	r, dir := initTestRepo(t)
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "home")
	if _, err := homedata.Make(src, 100000, 42); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 1, 1, 10, 0, 0, 0, time.Local)
	backup(t, r, src, day)
	sn := backup(t, r, src, day.Add(time.Hour))
	if sn.Summary.FilesUnmodified != 100000 || sn.Summary.DataBlobs != 0 {
		t.Errorf("no-change incremental: %d unmodified files, %d new data blobs", sn.Summary.FilesUnmodified, sn.Summary.DataBlobs)
	}
	if _, err := homedata.Mutate(src, 42, 1); err != nil {
		t.Fatal(err)
	}
	backup(t, r, src, day.Add(2*time.Hour))
	want, err := homedata.Digest(src)
	if err != nil {
		t.Fatal(err)
	}
	resticCmd(t, dir, "check", "--read-data")
	out := filepath.Join(t.TempDir(), "out")
	resticCmd(t, dir, "restore", "latest", "--target", out)
	if got, err := homedata.Digest(restoredPath(out, src)); err != nil || got != want {
		t.Fatalf("restic restored %s (%v), want %s", got, err, want)
	}
	os.RemoveAll(out)
	out2 := filepath.Join(t.TempDir(), "out2")
	restoreWith(t, r, "latest", out2)
	if got, err := homedata.Digest(restoredPath(out2, src)); err != nil || got != want {
		t.Fatalf("travelkit restored %s (%v), want %s", got, err, want)
	}
}
