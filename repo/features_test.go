package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestPatterns(t *testing.T) {
	e, err := CompilePatterns([]string{"*.tmp", "/home/a/cache", "node_modules", "build/**/out", "# comment", ""})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"/home/a/x.tmp":               true,
		"/home/a/dir/y.tmp":           true,
		"/home/a/tmp":                 false,
		"/home/a/cache":               true,
		"/home/b/home/a/cache":        false,
		"/home/a/src/node_modules":    true,
		"/home/a/build/x/y/out":       true,
		"/home/a/build/out":           true,
		"/home/a/build/x/y/outs":      false,
		"/home/a/docs/report.tmp.txt": false,
	}
	for p, want := range cases {
		if got := e.Match(p); got != want {
			t.Errorf("Match(%q) = %v, want %v", p, got, want)
		}
	}
	if _, err := CompilePatterns([]string{"[x"}); err == nil {
		t.Error("bad pattern accepted")
	}
}

func TestBackupOptionsAndErrors(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 5)
	os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(src, "unreadable"), []byte("secret"), 0o644)
	orig := openFile
	openFile = func(p string) (sourceFile, error) {
		if filepath.Base(p) == "unreadable" {
			return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrPermission}
		}
		return orig(p)
	}
	defer func() { openFile = orig }()
	var warned []string
	res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "laptop", Tags: []string{"t1", "t2"},
		Excludes: []string{"*.tmp", "empty-dir"}, Warn: func(p string, err error) { warned = append(warned, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 1 || len(warned) != 1 || filepath.Base(warned[0]) != "unreadable" {
		t.Fatalf("want one error for the unreadable file, got %d %v", res.Errors, warned)
	}
	sn := res.Snapshot
	if sn.Hostname != "laptop" || strings.Join(sn.Tags, ",") != "t1,t2" || sn.Paths[0] != src {
		t.Errorf("snapshot fields: %+v", sn)
	}
	var names []string
	r.Walk(ctx, *sn.Tree, "/", func(p string, n *Node) error {
		names = append(names, p)
		return nil
	})
	for _, p := range names {
		if strings.HasSuffix(p, ".tmp") || strings.Contains(p, "empty-dir") || strings.HasSuffix(p, "unreadable") {
			t.Errorf("%s should not be in the snapshot", p)
		}
	}
	// the rest is complete and restic agrees
	resticCmd(t, dir, "check", "--read-data")
	out := filepath.Join(t.TempDir(), "out")
	resticCmd(t, dir, "restore", "latest", "--target", out)
	want := snapshotTree(t, src)
	delete(want, "skip.tmp")
	delete(want, "unreadable")
	delete(want, "empty-dir")
	compareTrees(t, want, snapshotTree(t, restoredPath(out, src)))

	// the next backup of the same host and paths uses it as parent and reads nothing unchanged
	openFile = func(p string) (sourceFile, error) {
		if filepath.Base(p) != "unreadable" {
			t.Errorf("unchanged file %s was read again", p)
		}
		return orig(p)
	}
	res2, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "laptop", Excludes: []string{"*.tmp", "empty-dir"}})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Parent == nil || *res2.Parent != sn.ID {
		t.Errorf("parent not chosen by host and paths")
	}
	if *res2.Snapshot.Tree == *sn.Tree {
		t.Errorf("tree should differ (the unreadable file is readable now)")
	}
	// another host does not take it as parent
	openFile = orig
	res3, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if res3.Parent != nil {
		t.Errorf("snapshot of another host used as parent")
	}
}

func TestRestoreIncludeAndNoOverwrite(t *testing.T) {
	ctx := context.Background()
	r, _ := initTestRepo(t)
	r.LoadIndex(ctx)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 6)
	sn := backup(t, r, src, time.Now())
	out := filepath.Join(t.TempDir(), "out")
	_, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Include: []string{filepath.Join(src, "docs", "deep")}})
	if err != nil {
		t.Fatal(err)
	}
	got := snapshotTree(t, restoredPath(out, src))
	var keys []string
	for k := range got {
		keys = append(keys, filepath.ToSlash(k))
	}
	sort.Strings(keys)
	if strings.Join(keys, " ") != ". docs docs/deep docs/deep/er docs/deep/er/exec.sh docs/deep/small" {
		t.Errorf("include restored %v", keys)
	}
	// a second restore over it refuses to overwrite and says so
	var exists int
	_, err = r.Restore(ctx, sn, RestoreOptions{Target: out, Include: []string{filepath.Join(src, "docs", "deep")},
		Warn: func(p string, err error) {
			if errors.Is(err, ErrExists) {
				exists++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if exists != 2 {
		t.Errorf("want 2 refusals, got %d", exists)
	}
}

func TestForgetPolicy(t *testing.T) {
	var sns []*Snapshot
	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 90; i++ { // one snapshot a day for 90 days, two on the last day
		sns = append(sns, &Snapshot{Time: base.AddDate(0, 0, i)})
	}
	sns = append(sns, &Snapshot{Time: base.AddDate(0, 0, 89).Add(time.Hour)})
	keep, remove := ApplyPolicy(sns, ForgetPolicy{Last: 2})
	if len(keep) != 2 || len(remove) != 89 {
		t.Errorf("last 2: keep %d remove %d", len(keep), len(remove))
	}
	keep, _ = ApplyPolicy(sns, ForgetPolicy{Daily: 7})
	if len(keep) != 7 || !keep[0].Time.Equal(sns[90].Time) {
		t.Errorf("daily 7: keep %d", len(keep))
	}
	keep, _ = ApplyPolicy(sns, ForgetPolicy{Weekly: 4, Monthly: 3})
	months := map[string]bool{}
	for _, k := range keep {
		months[k.Time.Format("2006-01")] = true
	}
	if len(months) != 3 || len(keep) < 4 || len(keep) > 7 {
		t.Errorf("weekly 4 + monthly 3 kept %d in %d months", len(keep), len(months))
	}
}

func TestWrongPasswordAndKeyFile(t *testing.T) {
	_, dir := initTestRepo(t)
	if _, err := Open(context.Background(), NewFolder(dir), []byte("nope")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("want ErrWrongPassword, got %v", err)
	}
	if _, err := Open(context.Background(), NewFolder(t.TempDir()), []byte("x")); !errors.Is(err, ErrNoRepository) {
		t.Fatalf("want ErrNoRepository, got %v", err)
	}
	// restic opens the key file travelkit wrote (the password file has a newline; restic trims it)
	resticCmd(t, dir, "cat", "config")
}

// A damaged snapshot file does not stop backups, is reported by check, and
// stops prune from deleting the data it may use.
func TestDamagedSnapshot(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	r.LoadIndex(ctx)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 8)
	sn := backup(t, r, src, time.Now())
	p := filepath.Join(dir, "snapshots", sn.ID.String())
	os.Chmod(p, 0o600)
	os.WriteFile(p, []byte("garbage"), 0o600)
	r = openTestRepo(t, NewFolder(dir))
	backup(t, r, src, time.Now())
	res, err := r.Check(ctx, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || !strings.Contains(res.Errors[0].Error(), sn.ID.String()) {
		t.Errorf("check did not report the damaged snapshot: %v", res.Errors)
	}
	if _, err := r.Prune(ctx); err == nil {
		t.Error("prune ran with a damaged snapshot")
	}
}

// A symlink on the way to a backed-up path is stored as a folder, and the
// repository stays valid for restic.
func TestBackupThroughSymlinkedParent(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	r.LoadIndex(ctx)
	base := t.TempDir()
	os.MkdirAll(filepath.Join(base, "real", "data"), 0o755)
	os.WriteFile(filepath.Join(base, "real", "data", "f"), []byte("x"), 0o644)
	if !symlinksWork(t, base) {
		t.Skip("this system makes no symlinks (Wine, or Windows without developer mode)")
	}
	os.Symlink("real", filepath.Join(base, "via"))
	src := filepath.Join(base, "via", "data")
	sn := backup(t, r, src, time.Now())
	err := r.Walk(ctx, *sn.Tree, "/", func(p string, n *Node) error {
		if strings.HasSuffix(p, "/via") && n.Type != NodeDir {
			t.Errorf("%s stored as %s", p, n.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resticCmd(t, dir, "check", "--read-data")
	out := t.TempDir()
	restoreWith(t, r, "latest", out)
	if b, err := os.ReadFile(filepath.Join(restoredPath(out, src), "f")); err != nil || string(b) != "x" {
		t.Errorf("restore through the stored folder: %v", err)
	}
}

// Names a Windows target cannot hold are restored under safe names and listed.
func TestRestoreMapsUnsafeNames(t *testing.T) {
	ctx := context.Background()
	r, _ := initTestRepo(t)
	r.LoadIndex(ctx)
	// as Linux made it: this system may not create these names
	sn := snapshotOfFiles(t, r, map[string]string{"dir:x/CON": "con", "line\nbreak": "nl", "plain": "p"})
	out := t.TempDir()
	res, err := r.Restore(ctx, sn, RestoreOptions{Target: out, TargetOS: "windows",
		Warn: func(p string, err error) { t.Errorf("%s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renamed) != 3 {
		t.Fatalf("renamed: %+v", res.Renamed)
	}
	for _, rn := range res.Renamed {
		if _, err := os.Lstat(rn.RestoredPath); err != nil {
			t.Errorf("%s not at %s: %v", rn.SnapshotPath, rn.RestoredPath, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "src", "dir%3Ax", "CO%4E")); err != nil || string(b) != "con" {
		t.Errorf("mapped file: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "src", "plain")); err != nil || string(b) != "p" {
		t.Errorf("plain file: %v", err)
	}
}
