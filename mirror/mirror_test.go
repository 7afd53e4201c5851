package mirror

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"travelkit/remote"
	"travelkit/repo"
)

const password = "mirror test password"

func init() {
	repo.DefaultKDF = repo.KDFParams{N: 1 << 10, R: 8, P: 1}
}

// source makes a repository in a folder with one backup of a few files, with small
// packs so that there are many data files.
func source(t *testing.T) (*repo.Repository, string, string) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "src")
	r, err := repo.Init(ctx, repo.NewFolder(dir), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	r.PackSize = 256 << 10
	home := filepath.Join(t.TempDir(), "home")
	for i := 0; i < 6; i++ {
		writeRandom(t, filepath.Join(home, fmt.Sprintf("f%d", i)), 300<<10)
	}
	backup(t, r, home)
	return r, dir, home
}

func writeRandom(t *testing.T, p string, n int) {
	b := make([]byte, n)
	rand.Read(b)
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func backup(t *testing.T, r *repo.Repository, paths ...string) {
	t.Helper()
	ctx := context.Background()
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Backup(ctx, repo.BackupOptions{Paths: paths, Host: "h"}); err != nil {
		t.Fatal(err)
	}
}

func restic(t *testing.T, dir string, args ...string) string {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(password), 0o600)
	cmd := exec.Command("restic", append([]string{"-r", dir, "--no-cache", "--password-file", pw}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("restic %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func quick(o Options) Options {
	o.Backoff = func(int) time.Duration { return 0 }
	return o
}

func TestCopyAndIncremental(t *testing.T) {
	ctx := context.Background()
	src, _, home := source(t)
	dstDir := filepath.Join(t.TempDir(), "dst")
	dst := repo.NewFolder(dstDir)
	res, err := Copy(ctx, src, dst, quick(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent.Files == 0 || res.Skipped.Files != 0 || res.Verified.Files != res.Sent.Files || res.Snapshots != 1 {
		t.Fatalf("first copy: %+v", res)
	}
	restic(t, dstDir, "check", "--read-data")
	// the copy is the same repository: the same snapshot
	sn := restic(t, dstDir, "snapshots", "--json")
	srcSn, _ := src.Snapshots(ctx)
	if !strings.Contains(sn, srcSn[0].ID.String()) {
		t.Fatalf("snapshot %s missing at the destination:\n%s", srcSn[0].ID, sn)
	}

	// nothing new: nothing sent
	res2, err := Copy(ctx, src, dst, quick(Options{}))
	if err != nil || res2.Sent.Files != 0 || res2.Skipped.Files != res.Sent.Files {
		t.Fatalf("second copy: %+v %v", res2, err)
	}

	// one new file: only what the new backup wrote is sent
	writeRandom(t, filepath.Join(home, "new"), 100<<10)
	before := countFiles(t, src.Storage())
	backup(t, src, home)
	added := countFiles(t, src.Storage()) - before
	res3, err := Copy(ctx, src, dst, quick(Options{}))
	if err != nil || res3.Sent.Files != added || res3.Snapshots != 2 {
		t.Fatalf("incremental copy sent %d files, the backup added %d: %+v %v", res3.Sent.Files, added, res3, err)
	}
	restic(t, dstDir, "check", "--read-data")
}

func countFiles(t *testing.T, st repo.Storage) int {
	n := 0
	for _, ty := range []repo.FileType{repo.KeyFile, repo.PackFile, repo.IndexFile, repo.SnapshotFile} {
		st.List(context.Background(), ty, func(string, int64) error { n++; return nil })
	}
	return n
}

// recorder wraps a storage: it records the order of saves that arrived, and can fail.
type recorder struct {
	repo.Storage
	mu      sync.Mutex
	saves   []repo.Handle // in the order they arrived
	started int
	// failAfter > 0: every save started after that many fails for good (a dead link)
	failAfter int
	// flaky > 0: each file's first flaky saves fail with a transient error
	flaky int
	tries map[string]int
}

func (r *recorder) Save(ctx context.Context, h repo.Handle, data []byte) error {
	r.mu.Lock()
	if h.Type == repo.LockFile {
		r.mu.Unlock()
		return r.Storage.Save(ctx, h, data)
	}
	if r.failAfter > 0 && r.started >= r.failAfter {
		r.mu.Unlock()
		return errors.New("the link is dead")
	}
	if r.tries == nil {
		r.tries = map[string]int{}
	}
	r.tries[h.String()]++
	if r.tries[h.String()] <= r.flaky {
		r.mu.Unlock()
		return remote.MarkTransient(errors.New("connection reset"))
	}
	r.started++
	r.mu.Unlock()
	// recorded once it is there: a save still on its way when the link dies stops
	// with the copy (its context is cancelled) and is sent again by the next one
	if err := r.Storage.Save(ctx, h, data); err != nil {
		return err
	}
	r.mu.Lock()
	r.saves = append(r.saves, h)
	r.mu.Unlock()
	return nil
}

func TestOrderAndResume(t *testing.T) {
	ctx := context.Background()
	src, _, _ := source(t)
	dstDir := filepath.Join(t.TempDir(), "dst")
	total := countFiles(t, src.Storage()) + 1 // and config
	rec := &recorder{Storage: repo.NewFolder(dstDir), failAfter: total / 2}
	_, err := Copy(ctx, src, rec, quick(Options{Connections: 3}))
	if err == nil {
		t.Fatal("a copy over a dead link succeeded")
	}
	// interrupted half way: no snapshot there, and what is there checks
	if n := countType(t, rec.Storage, repo.SnapshotFile); n != 0 {
		t.Fatalf("%d snapshots visible before their data", n)
	}
	restic(t, dstDir, "check")
	first := len(rec.saves) // the files that arrived

	rec.failAfter = 0
	res, err := Copy(ctx, src, rec, quick(Options{Connections: 3}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent.Files+first != total || res.Skipped.Files != first {
		t.Fatalf("resumed copy sent %d, skipped %d; %d were sent before, %d in all", res.Sent.Files, res.Skipped.Files, first, total)
	}
	restic(t, dstDir, "check", "--read-data")
	// the order of every save: keys, config, data, index, snapshots
	rank := map[repo.FileType]int{repo.KeyFile: 0, repo.ConfigFile: 1, repo.PackFile: 2, repo.IndexFile: 3, repo.SnapshotFile: 4}
	for i := 1; i < len(rec.saves); i++ {
		if i == first {
			continue // a new run
		}
		if rank[rec.saves[i].Type] < rank[rec.saves[i-1].Type] {
			t.Fatalf("%s saved after %s", rec.saves[i], rec.saves[i-1])
		}
	}
}

func countType(t *testing.T, st repo.Storage, ty repo.FileType) int {
	n := 0
	st.List(context.Background(), ty, func(string, int64) error { n++; return nil })
	return n
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	src, _, _ := source(t)
	dstDir := filepath.Join(t.TempDir(), "dst")
	var warnings []string
	rec := &recorder{Storage: repo.NewFolder(dstDir), flaky: 2}
	res, err := Copy(ctx, src, rec, quick(Options{Warn: func(w Warning) { warnings = append(warnings, w.String()) }}))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) < res.Sent.Files*2 {
		t.Fatalf("%d retries told for %d files", len(warnings), res.Sent.Files)
	}
	// the English text (--json) is as it always was; the face writes What in its language
	retryRE := regexp.MustCompile(`^sending (config|(keys|data|index|snapshots)/[0-9a-f]{64}): .+; trying again in 0s$`)
	for _, w := range warnings {
		if !retryRE.MatchString(w) {
			t.Fatalf("warning %q, want %v", w, retryRE)
		}
	}
	restic(t, dstDir, "check", "--read-data")
	// too flaky: gives up, and says so
	rec2 := &recorder{Storage: repo.NewFolder(filepath.Join(t.TempDir(), "d2")), flaky: 5}
	_, err = Copy(ctx, src, rec2, quick(Options{Retries: 2}))
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 tries") {
		t.Fatalf("too flaky: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	src, srcDir, _ := source(t)
	// another repository at the destination
	otherDir := filepath.Join(t.TempDir(), "other")
	if _, err := repo.Init(ctx, repo.NewFolder(otherDir), []byte(password)); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, src, repo.NewFolder(otherDir), quick(Options{})); !errors.Is(err, remote.ErrOtherRepository) {
		t.Fatalf("another repository: %v", err)
	}
	// a damaged file at the source is not sent
	var pack string
	src.Storage().List(ctx, repo.PackFile, func(n string, _ int64) error { pack = n; return nil })
	p := filepath.Join(srcDir, "data", pack[:2], pack)
	os.Chmod(p, 0o600)
	b, _ := os.ReadFile(p)
	b[100] ^= 1
	os.WriteFile(p, b, 0o600)
	dstDir := filepath.Join(t.TempDir(), "dst")
	if _, err := Copy(ctx, src, repo.NewFolder(dstDir), quick(Options{})); !errors.Is(err, ErrDamagedSource) {
		t.Fatalf("damaged source: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dstDir, "data", pack[:2], pack)); err == nil {
		t.Fatal("a damaged file was sent")
	}
	if countType(t, repo.NewFolder(dstDir), repo.SnapshotFile) != 0 {
		t.Fatal("a snapshot was sent though its data could not be")
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	src, _, home := source(t)
	dstDir := filepath.Join(t.TempDir(), "dst")
	dst := repo.NewFolder(dstDir)
	writeRandom(t, filepath.Join(home, "f0"), 300<<10) // changed
	backup(t, src, home)
	if _, err := Copy(ctx, src, dst, quick(Options{})); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Forget(ctx, repo.ForgetPolicy{Last: 1}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	// without Prune, the destination keeps both snapshots
	res, err := Copy(ctx, src, dst, quick(Options{}))
	if err != nil || res.Snapshots != 2 || res.Removed.Files != 0 {
		t.Fatalf("copy without prune: %+v %v", res, err)
	}
	restic(t, dstDir, "check", "--read-data")
	// with Prune, it becomes the same as the source
	res, err = Copy(ctx, src, dst, quick(Options{Prune: true}))
	if err != nil || res.Snapshots != 1 || res.Removed.Files == 0 {
		t.Fatalf("copy with prune: %+v %v", res, err)
	}
	if countFiles(t, dst) != countFiles(t, src.Storage()) {
		t.Fatalf("after prune: %d files at the destination, %d at the source", countFiles(t, dst), countFiles(t, src.Storage()))
	}
	restic(t, dstDir, "check", "--read-data")
	if !bytes.Contains([]byte(restic(t, dstDir, "snapshots")), []byte("1 snapshots")) {
		t.Fatal("restic sees more than one snapshot")
	}
}
