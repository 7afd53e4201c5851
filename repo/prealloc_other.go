//go:build !linux

package repo

import (
	"os"

	"travelkit/internal/beneath"
)

// preallocate sets the size of a file about to be written in pieces.
func preallocate(f *beneath.File, size int64) error { return f.Truncate(size) }

// reserve reserves no space here: a file extended by Truncate would be written
// twice on some systems (zeros, then the data).
func reserve(f *os.File, n, room int64) bool { return false }

func unwrittenExtents(f *os.File) bool { return false }

// dropCached leaves the file's pages to the system's cache.
func dropCached(f *os.File) {}
