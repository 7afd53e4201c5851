package ssss

import (
	"runtime"
	"strings"
	"testing"
)

// FuzzParseShares: share text comes from files a colleague hands over and from escrow
// files: errors, never panics, and whatever parses formats back to an equivalent share
// and combines (or fails) without panicking.
func FuzzParseShares(f *testing.F) {
	f.Add("1-0a1b\n2-ffee\n")
	f.Add("tok-01-" + strings.Repeat("0f", 71) + "\n")
	f.Add("3-" + strings.Repeat("a", 256))
	f.Add("\n\n1-00\n")
	f.Fuzz(func(t *testing.T, text string) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		shares, err := ParseShares(text)
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20+32*uint64(len(text)) {
			t.Fatalf("parsing %d bytes of shares allocated %d", len(text), a)
		}
		if err != nil {
			return
		}
		for _, s := range shares {
			p, err := ParseShare(s.String())
			if err != nil || p.String() != s.String() {
				t.Fatalf("%q does not round-trip: %v", s.String(), err)
			}
		}
		for k := 2; k <= len(shares) && k <= 4; k++ {
			Combine(shares, k)
		}
	})
}
