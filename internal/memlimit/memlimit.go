// Package memlimit holds the soft memory limit travelkit's commands run under. Go's
// collector lets the heap grow to twice what is live before it collects; near this limit
// it collects sooner instead, so that a command that holds a large index or a deep tree
// stays within the 1 GiB travelkit promises. It is soft: what is really live (a 4 GiB
// Argon2 key derivation of a genuine kit) may exceed it.
package memlimit

import (
	"os"
	"runtime/debug"
)

// Limit is the soft limit of the Go heap: about 1 GiB of resident memory with the
// runtime's own use.
const Limit = 768 << 20

// Set applies Limit unless GOMEMLIMIT chose one.
func Set() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(Limit)
	}
}
