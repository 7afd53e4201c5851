//go:build !linux && !darwin && !windows

package target

import "os"

// sparseSupported is not known here; the plan does not promise it.
func sparseSupported(dir string) bool { return false }

func makeSparse(f *os.File) error { return nil }
