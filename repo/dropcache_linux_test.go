package repo

import (
	"context"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A committed pack leaves the page cache (dropCached): none of its pages is
// resident once Commit returns, so that a backup's packs do not push the files
// it has still to read out of the cache.
func TestFolderTempLeavesCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		t.Fatalf("%s is on tmpfs, where a file's pages are the file: run with TMPDIR on a disk", dir)
	}
	f := NewFolder(dir)
	tf, err := f.CreateTemp(ctx, PackFile)
	if err != nil {
		t.Fatal(err)
	}
	tf.(Reserver).Reserve(8 << 20)
	data := randomBytes(3, 4<<20)
	for p := data; len(p) > 0; p = p[min(len(p), 5000):] {
		if _, err := tf.Write(p[:min(len(p), 5000)]); err != nil {
			t.Fatal(err)
		}
	}
	h := Handle{Type: PackFile, Name: Hash(data).String()}
	if err := tf.Commit(ctx, h); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(f.path(h))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	m, err := unix.Mmap(int(fh.Fd()), 0, len(data), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(data)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	resident := 0
	for _, v := range vec {
		resident += int(v & 1)
	}
	if resident != 0 {
		t.Fatalf("%d of the committed pack's %d pages are in the page cache, want none", resident, len(vec))
	}
}
