//go:build !linux

package main

import "os"

// openFlags: no extra open flags outside Linux (O_EXCL has no in-use meaning there).
func openFlags(st os.FileInfo, write bool) int { return 0 }
