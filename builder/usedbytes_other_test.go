//go:build !unix

package builder_test

import "os"

// usedBytes is the file's size: this platform's stat does not count allocated blocks.
func usedBytes(st os.FileInfo) int64 { return st.Size() }
