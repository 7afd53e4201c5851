package repo

import (
	"os"

	"golang.org/x/sys/unix"

	"travelkit/internal/beneath"
)

// preallocate reserves size bytes for a file about to be written in pieces,
// so that the file system places it in few extents; the size is set too.
func preallocate(f *beneath.File, size int64) error {
	if size > 0 && unix.Fallocate(int(f.Fd()), 0, 0, size) == nil {
		return nil
	}
	return f.Truncate(size)
}

// reserve gives a new, empty file f n bytes of allocated space and that size at
// once (fallocate), so that the writes that then fill it neither extend the file
// nor reserve blocks one by one: on journaled ext4 each write past the end
// changed the size in the journal. It reports whether the space was reserved;
// when not, f is as it was. Only on ext4 and XFS, which mark such space as
// allocated and unwritten: FAT (a USB drive) would write the n bytes as zeros
// first, and tmpfs would clear n bytes of memory. Only when the disk has room
// bytes free beside the n (Folder's Reserve).
func reserve(f *os.File, n, room int64) bool {
	if n <= 0 {
		return false
	}
	st, ok := unwrittenStatfs(f)
	if !ok || int64(st.Bavail) < (n+room)/max(int64(st.Bsize), 1) {
		return false
	}
	if unix.Fallocate(int(f.Fd()), 0, 0, n) == nil {
		return true
	}
	// ext4 keeps the blocks (and the size) it could give before it ran out:
	// the pack would be committed with zeros after its last blob
	if f.Truncate(0) != nil {
		return true // Commit cuts it to its length
	}
	return false
}

// unwrittenExtents reports whether f is on ext4 (or ext2/3 mounted by it, where
// fallocate fails without extents) or XFS.
func unwrittenExtents(f *os.File) bool {
	_, ok := unwrittenStatfs(f)
	return ok
}

// unwrittenStatfs returns the statfs of the file system of f if it is ext4 or XFS.
func unwrittenStatfs(f *os.File) (unix.Statfs_t, bool) {
	var st unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &st) != nil {
		return st, false
	}
	return st, st.Type == unix.EXT4_SUPER_MAGIC || st.Type == unix.XFS_SUPER_MAGIC
}

// dropCached asks the system to drop f's pages from its cache once they are on
// the disk (after its fsync): a backup never reads its packs again, and on a
// machine whose memory is full of cache every page of a pack written evicted a
// page of something else, such as the files still to be read. With the 5 GB of
// packs of a 1,000,000-file first backup, the source files read after them came
// partly from the disk again (README "Benchmarks", "Short writes gathered; packs
// leave the cache").
func dropCached(f *os.File) {
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
