//go:build !linux

package repo

import "os"

// openRead opens a file or folder to back it up (Linux keeps its access time).
func openRead(p string) (*os.File, error) { return os.Open(p) }
