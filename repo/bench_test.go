package repo

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

// TestProfileBackup profiles a backup of $TK_PROFILE_SRC when set (a manual
// tool for performance work; it does nothing in normal test runs).
func TestProfileBackup(t *testing.T) {
	src := os.Getenv("TK_PROFILE_SRC")
	if src == "" {
		return
	}
	ctx := context.Background()
	var r *Repository
	if dir := os.Getenv("TK_PROFILE_REPO"); dir != "" {
		var err error
		if r, err = Open(ctx, NewFolder(dir), []byte("pw")); err != nil {
			t.Fatal(err)
		}
	} else {
		r, _ = initTestRepo(t)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(filepath.Join(os.Getenv("TK_PROFILE_OUT"), "cpu.prof"))
	pprof.StartCPUProfile(f)
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		var peak uint64
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				peak = ms.HeapAlloc
				h, _ := os.Create(filepath.Join(os.Getenv("TK_PROFILE_OUT"), "heap.prof"))
				pprof.WriteHeapProfile(h)
				h.Close()
				t.Logf("live heap %d MB, stacks %d MB, goroutines %d", peak>>20, ms.StackInuse>>20, runtime.NumGoroutine())
			}
		}
	}()
	defer close(stop)
	if _, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "p"}); err != nil {
		t.Fatal(err)
	}
	pprof.StopCPUProfile()
	t.Logf("backup took %v", time.Since(start))
}

// TestProfileRestore profiles a restore of the latest snapshot of
// $TK_PROFILE_REPO (password "pw") when set.
func TestProfileRestore(t *testing.T) {
	dir := os.Getenv("TK_PROFILE_REPO")
	if dir == "" {
		return
	}
	ctx := context.Background()
	r, err := Open(ctx, NewFolder(dir), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(filepath.Join(os.Getenv("TK_PROFILE_OUT"), "restore.prof"))
	pprof.StartCPUProfile(f)
	start := time.Now()
	target := t.TempDir()
	if d := os.Getenv("TK_PROFILE_TARGET"); d != "" {
		target = d
		defer os.RemoveAll(d)
	}
	if _, err := r.Restore(ctx, sn, RestoreOptions{Target: target}); err != nil {
		t.Fatal(err)
	}
	pprof.StopCPUProfile()
	t.Logf("restore took %v", time.Since(start))
}
