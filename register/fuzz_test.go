package register

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzParse: a register may be damaged or hostile: errors and skipped lines, never a
// panic; what parses folds into kits and checks without panicking.
func FuzzParse(f *testing.F) {
	f.Add(`{"event":"build","date":"2025-01-01T00:00:00Z","kit_id":"k","luks_uuid":"u","escrow":["a"],"escrow_threshold":1,"travelkit_version":"v1.0.0"}` + "\n")
	f.Add("\n\n{}\n[]\nnull\n")
	f.Add(`{"event":"erase","date":"2025-01-01T00:00:00Z","kit_id":"k","recovery_key_rotated":"2020-01-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, s string) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ev, problems, err := Parse(strings.NewReader(s))
		runtime.ReadMemStats(&after)
		// the 64 KiB line buffer, and each line's decoding garbage
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20+256*uint64(len(s)) {
			t.Fatalf("parsing a %d-byte register allocated %d", len(s), a)
		}
		if err != nil {
			return
		}
		if len(problems) > maxProblems+1 {
			t.Fatalf("%d problems listed", len(problems))
		}
		kits := Check(Kits(ev), Period{Months: 12}, time.Now(), "v1.0.0")
		Due(kits)
	})
}
