package repo

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/restic/chunker"
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

// TestCompressionLevels compresses the blobs of $TK_ZSTD_SRC (chunked as a
// backup does, incompressible blobs detected as a backup does) at each zstd
// level and prints stored bytes and CPU time: how the level was chosen (a
// manual tool; it does nothing in normal test runs).
func TestCompressionLevels(t *testing.T) {
	src := os.Getenv("TK_ZSTD_SRC")
	if src == "" {
		return
	}
	c := newCutter(chunker.Pol(0x3DA3358B4DC173))
	var blobs [][]byte
	var total int64
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		total += int64(len(b))
		for len(b) > 0 {
			l := c.cut(b, 0)
			if l == 0 {
				l = len(b)
			}
			blobs = append(blobs, b[:l])
			b = b[l:]
		}
		return nil
	})
	t.Logf("%d blobs, %d bytes", len(blobs), total)
	for _, lv := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression} {
		r := &Repository{cfg: Config{Version: 2}}
		r.encOnce.Do(func() {
			// travelkit's own settings at its level (zstdOptions), the
			// encoder's defaults at the others
			opts := zstdOptions()
			if lv != zstd.SpeedFastest {
				opts = []zstd.EOption{zstd.WithEncoderLevel(lv), zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(true)}
			}
			r.enc, _ = zstd.NewWriter(nil, opts...)
		})
		var stored int64
		var dst []byte
		runtime.GC()
		t0 := cpuTime()
		for _, b := range blobs {
			c, ok := r.compressBlob(b, dst)
			if c != nil {
				dst = c[:0]
			}
			if ok {
				stored += int64(len(c))
			} else {
				stored += int64(len(b))
			}
		}
		d := cpuTime() - t0
		t.Logf("zstd %-8v stored %6.1f MiB (%.3f of %6.1f MiB)  CPU %6.2fs  %5.0f MB/s", lv, float64(stored)/(1<<20),
			float64(stored)/float64(total), float64(total)/(1<<20), d.Seconds(), float64(total)/1e6/d.Seconds())
	}
}
