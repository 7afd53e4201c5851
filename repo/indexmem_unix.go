//go:build unix

package repo

import "golang.org/x/sys/unix"

// mapIndexMem returns n bytes of zeroed memory mapped outside the collected heap
// for the index's pages and table (nil when mapping fails: the caller then takes
// heap memory). Pages are made resident as they are first written, not before.
func mapIndexMem(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	return b
}

// unmapIndexMem hands memory from mapIndexMem back to the system.
func unmapIndexMem(b []byte) { unix.Munmap(b) }
