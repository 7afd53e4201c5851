package repo

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// failingStorage fails every Save after the first n.
type failingStorage struct {
	Storage
	n     int64
	saves atomic.Int64
}

var errInjected = errors.New("injected failure: disk full")

func (f *failingStorage) Save(ctx context.Context, h Handle, data []byte) error {
	if f.saves.Add(1) > f.n {
		return errInjected
	}
	return f.Storage.Save(ctx, h, data)
}

// Close closes the wrapped storage, whose open files Windows would not let
// the test's cleanup remove.
func (f *failingStorage) Close() error { return closeStorage(f.Storage) }

func closeStorage(st Storage) error {
	if c, ok := st.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// A backup that fails after N writes leaves a repository that checks clean,
// whose earlier snapshots restore identically, and that takes the next backup.
func TestCrashAfterNWrites(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 4)
	r := openTestRepo(t, NewFolder(dir))
	r.PackSize = 256 << 10
	first := backup(t, r, src, time.Now())
	want := snapshotTree(t, src)
	failures := 0
	for n := int64(0); n < 9; n++ {
		mutate(t, src, int(n)+1)
		if err := os.WriteFile(filepath.Join(src, "fresh"), randomBytes(int(n), 900<<10), 0o644); err != nil {
			t.Fatal(err)
		}
		fs := &failingStorage{Storage: NewFolder(dir), n: n}
		r := openTestRepo(t, fs)
		r.PackSize = 256 << 10
		_, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test"})
		if err == nil {
			// enough writes were allowed for the whole backup
			continue
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("n=%d: unexpected error %v", n, err)
		}
		failures++
		r2 := openTestRepo(t, NewFolder(dir))
		mustCheck(t, r2)
		out := filepath.Join(t.TempDir(), "out")
		restoreWith(t, r2, first.ID.String(), out)
		compareTrees(t, want, snapshotTree(t, restoredPath(out, src)))
	}
	if failures < 4 {
		t.Errorf("only %d backups were interrupted", failures)
	}
	r = openTestRepo(t, NewFolder(dir))
	sn := backup(t, r, src, time.Now())
	out := filepath.Join(t.TempDir(), "out-final")
	restoreWith(t, r, sn.ID.String(), out)
	compareTrees(t, snapshotTree(t, src), snapshotTree(t, restoredPath(out, src)))
	// prune removes the leftovers of the failed runs; restic agrees with the result
	if _, err := openTestRepo(t, NewFolder(dir)).Prune(ctx); err != nil {
		t.Fatal(err)
	}
	resticCmd(t, dir, "check", "--read-data")
}

func randomBytes(seed, n int) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// A damaged pack is named by check, and the files that do not use it still restore.
func TestCorruptedPack(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a"), randomBytes(1, 300<<10), 0o644)
	os.WriteFile(filepath.Join(src, "b"), randomBytes(2, 300<<10), 0o644)
	r := openTestRepo(t, NewFolder(dir))
	r.PackSize = 100 << 10 // one blob per pack
	backup(t, r, src, time.Now())

	r = openTestRepo(t, NewFolder(dir))
	var target PackedBlob
	r.Index().Each(func(pb PackedBlob) {
		if pb.Type == DataBlob && pb.ID == Hash(randomBytes(1, 300<<10)) {
			target = pb
		}
	})
	if target.PackID.IsNull() {
		t.Fatal("blob of a not found")
	}
	p := filepath.Join(dir, "data", target.PackID.String()[:2], target.PackID.String())
	os.Chmod(p, 0o600)
	b, _ := os.ReadFile(p)
	b[100] ^= 0x55
	os.WriteFile(p, b, 0o600)

	res, err := r.Check(ctx, CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.DamagedPack) != 1 || res.DamagedPack[0] != target.PackID {
		t.Fatalf("check did not name the damaged pack %s: %v", target.PackID, res.Errors)
	}
	if !strings.Contains(res.Errors[0].Error(), target.PackID.String()) {
		t.Errorf("error does not name the pack: %v", res.Errors[0])
	}
	// without --read-data the structure is still fine
	res, _ = r.Check(ctx, CheckOptions{})
	if !res.OK() {
		t.Errorf("structural check failed: %v", res.Errors)
	}
	out := filepath.Join(t.TempDir(), "out")
	var warned []string
	sn, _ := r.FindSnapshot(ctx, "latest")
	if _, err := r.Restore(ctx, sn, RestoreOptions{Target: out, Warn: func(p string, err error) { warned = append(warned, p) }}); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || filepath.Base(warned[0]) != "a" {
		t.Errorf("expected one failure for a, got %v", warned)
	}
	got, err := os.ReadFile(filepath.Join(restoredPath(out, src), "b"))
	if err != nil || string(got) != string(randomBytes(2, 300<<10)) {
		t.Errorf("b not restored intact: %v", err)
	}
}

// A lock travelkit holds stops restic, and a stale lock does not stop travelkit.
func TestLocksWithRestic(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	l, err := r.Lock(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lock(ctx, false); err == nil {
		t.Fatal("second lock granted while an exclusive lock is held")
	} else {
		var le *LockedError
		if !errors.As(err, &le) {
			t.Fatalf("want LockedError, got %v", err)
		}
	}
	cmd := resticCmdNoFail(t, dir, "backup", t.TempDir())
	if cmd == nil || !strings.Contains(cmd.Error(), "lock") {
		t.Errorf("restic backup ran while travelkit held an exclusive lock: %v", cmd)
	}
	l.Unlock()
	// restic's own lock format is read: restic sees no stale lock, and neither do we
	resticCmd(t, dir, "check")
	l2, err := r.Lock(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	l2.Unlock()
}

// cancelStorage cancels the backup's context after n saves, like Ctrl-C.
type cancelStorage struct {
	Storage
	n      int64
	saves  atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelStorage) Save(ctx context.Context, h Handle, data []byte) error {
	if c.saves.Add(1) == c.n {
		c.cancel()
	}
	return c.Storage.Save(ctx, h, data)
}

func (c *cancelStorage) Close() error { return closeStorage(c.Storage) }

func TestInterruptedBackup(t *testing.T) {
	_, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 7)
	for n := int64(1); n <= 4; n++ {
		ctx, cancel := context.WithCancel(context.Background())
		cs := &cancelStorage{Storage: NewFolder(dir), n: n, cancel: cancel}
		r := openTestRepo(t, cs)
		r.PackSize = 200 << 10
		_, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test"})
		cancel()
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("n=%d: %v", n, err)
		}
		mustCheck(t, openTestRepo(t, NewFolder(dir)))
	}
	r := openTestRepo(t, NewFolder(dir))
	backup(t, r, src, time.Now())
	resticCmd(t, dir, "check", "--read-data")
}

// A lock restic holds (a running `restic backup --stdin`) is honoured:
// travelkit refuses an exclusive lock but shares with it.
func TestResticLockHonoured(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(testPassword), 0o600)
	cmd := exec.Command("restic", "-r", dir, "--no-cache", "-q", "backup", "--stdin", "--host", "r")
	cmd.Env = append(os.Environ(), "RESTIC_PASSWORD_FILE="+pw)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restic is needed for this test: %v", err)
	}
	defer cmd.Process.Kill()
	in.Write([]byte("some data"))
	// wait for restic's lock file
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := 0
		NewFolder(dir).List(ctx, LockFile, func(string, int64) error { n++; return nil })
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("restic did not create a lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := r.Lock(ctx, true); err == nil {
		t.Fatal("exclusive lock granted while restic runs a backup")
	} else {
		var le *LockedError
		if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
			t.Fatalf("want LockedError naming restic's PID %d, got %v", cmd.Process.Pid, err)
		}
	}
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatalf("shared lock refused: %v", err)
	}
	l.Unlock()
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err = r.Lock(ctx, true)
	if err != nil {
		t.Fatalf("exclusive lock refused after restic finished: %v", err)
	}
	l.Unlock()
}
