//go:build !unix

package repo

// mapIndexMem maps nothing here: the index takes heap memory.
func mapIndexMem(n int) []byte { return nil }

func unmapIndexMem(b []byte) {}
