//go:build !linux

package main

import "os"

// openFlags: no extra open flags outside Linux (O_EXCL has no in-use meaning there).
func openFlags(st os.FileInfo, write bool) int { return 0 }

// blockReadOnly: elsewhere a read-only device fails to open for writing.
func blockReadOnly(f *os.File) bool { return false }
