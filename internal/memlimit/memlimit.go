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
