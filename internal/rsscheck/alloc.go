package rsscheck

import (
	"runtime"
	"testing"
)

// AllocCap fails t when fn allocates more than limit bytes in this process (the Go
// heap's running total, on every OS): a length or count read from a fuzzed input must
// never size an allocation by itself. what names the call in the failure.
func AllocCap(t testing.TB, limit uint64, what string, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	if a := after.TotalAlloc - before.TotalAlloc; a > limit {
		t.Fatalf("%s allocated %d bytes (bound %d)", what, a, limit)
	}
}
