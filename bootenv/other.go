//go:build !linux

package bootenv

// Main runs the boot environment, which exists only on Linux; elsewhere it returns 1.
func Main() int { return 1 }
