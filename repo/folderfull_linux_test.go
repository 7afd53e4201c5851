package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"travelkit/internal/testfs"
)

// A folder repository on a full disk: the error says so, with the file's size
// (DiskFullError, errors.Is ENOSPC), and leaves no temporary file.
func TestFolderDiskFull(t *testing.T) {
	f, dir := smallFolder(t)
	ctx := context.Background()
	data := randomBytes(1, 2<<20)
	err := f.Save(ctx, Handle{Type: PackFile, Name: Hash(data).String()}, data)
	var full *DiskFullError
	if !errors.As(err, &full) || !errors.Is(err, syscall.ENOSPC) || full.Need != int64(len(data)) {
		t.Fatalf("saving 2 MiB into 1 MiB: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	t.Log(err)
}

// A first backup into a folder on a nearly full ext4 (where streamed packs may
// reserve their size with fallocate): data that fits with 10 MiB to spare is
// saved, and data 8 MiB more than the free space stops with a DiskFullError
// (errors.Is ENOSPC), no temporary file left, the repository consistent. With
// 8 procs, 8 readers each fill a pack at once: had each reserved 16 MiB and
// kept it, the first case stopped at ENOSPC with 84 MiB free. Both with the
// room a reservation needs (reserveRoom) and with every pack reserving: then a
// write that finds the disk full cuts the others' reservations and goes on.
func TestFolderBackupNearlyFull(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	room := reserveRoom
	defer func() { reserveRoom = room }()
	for _, rc := range []struct {
		name string
		room func(open, n int64) int64
	}{{"room for reservations", room}, {"every pack reserves", func(open, n int64) int64 { return 0 }}} {
		reserveRoom = rc.room
		for _, tc := range []struct {
			name  string
			spare int64 // free space left by the data (negative: missing)
			fits  bool
		}{{"fits with 10 MiB to spare", 10 << 20, true}, {"8 MiB too large", -8 << 20, false}} {
			t.Run(rc.name+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				mnt := filepath.Join(t.TempDir(), "ext4")
				testfs.Ext4(t, mnt, 96<<20)
				dir := filepath.Join(mnt, "repo")
				r0, err := Init(ctx, NewFolder(dir), []byte(testPassword))
				if err != nil {
					t.Fatal(err)
				}
				r0.Close()
				var st syscall.Statfs_t
				if err := syscall.Statfs(mnt, &st); err != nil {
					t.Fatal(err)
				}
				// root may use the blocks ext4 keeps for root
				free := int64(st.Bfree) * st.Bsize
				src := filepath.Join(t.TempDir(), "src")
				os.MkdirAll(src, 0o755)
				for i, left := 0, free-tc.spare; left > 0; i++ {
					n := min(left, 9<<20)
					if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), randomBytes(100+i, int(n)), 0o644); err != nil {
						t.Fatal(err)
					}
					left -= n
				}
				r := openTestRepo(t, NewFolder(dir))
				_, err = r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "h"})
				if err := syscall.Statfs(mnt, &st); err != nil {
					t.Fatal(err)
				}
				t.Logf("%d MiB free before, %d MiB of data, %d KiB free after: %v", free>>20, (free-tc.spare)>>20, int64(st.Bfree)*st.Bsize>>10, err)
				var full *DiskFullError
				switch {
				case tc.fits && err != nil:
					t.Fatalf("the data fits with %d MiB to spare: %v", tc.spare>>20, err)
				case !tc.fits && (!errors.As(err, &full) || !errors.Is(err, syscall.ENOSPC)):
					t.Fatalf("the data does not fit: %v, want a DiskFullError", err)
				}
				if left, _ := filepath.Glob(filepath.Join(dir, "data", "00", "stream-tmp-*")); len(left) != 0 {
					t.Fatalf("temporary files left: %v", left)
				}
				mustCheck(t, openTestRepo(t, NewFolder(dir)))
			})
		}
	}
}

// A streamed file that does not fit, written in short pieces that are gathered
// (folderTemp.Write): the disk-full error comes from a later write or from
// Commit, says so (DiskFullError, ENOSPC), and no temporary file is left.
func TestFolderTempDiskFull(t *testing.T) {
	f, dir := smallFolder(t)
	ctx := context.Background()
	tf, err := f.CreateTemp(ctx, PackFile)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2, 2<<20)
	for p := data; len(p) > 0 && err == nil; p = p[min(len(p), 1000):] {
		_, err = tf.Write(p[:min(len(p), 1000)])
	}
	if err == nil {
		err = tf.Commit(ctx, Handle{Type: PackFile, Name: Hash(data).String()})
	} else {
		tf.Abort()
	}
	var full *DiskFullError
	if !errors.As(err, &full) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing 2 MiB into 1 MiB in pieces of 1000 bytes: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	t.Log(err)
}

// smallFolder is a new folder repository's storage (in dir) on a 1 MiB tmpfs.
func smallFolder(t *testing.T) (*Folder, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	testfs.Tmpfs(t, dir, "1m")
	f := NewFolder(dir)
	if err := f.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, dir
}
