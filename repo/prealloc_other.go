//go:build !linux

package repo

import "os"

// preallocate sets the size of a file about to be written in pieces.
func preallocate(f *os.File, size int64) error { return f.Truncate(size) }
