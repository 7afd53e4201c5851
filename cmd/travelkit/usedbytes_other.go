//go:build !unix

package main

import "os"

// usedBytes is the file size where the allocated size is not known.
func usedBytes(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}
