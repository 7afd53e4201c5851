//go:build !linux

package scrypt

// prefault does nothing here: the work area's pages are mapped as ROMix writes them.
func prefault(v []uint32) (wait func()) { return func() {} }
