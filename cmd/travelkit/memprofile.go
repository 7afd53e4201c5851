package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startMemProfile (TRAVELKIT_MEMPROFILE=FILE) keeps FILE a heap profile taken
// at the largest heap seen so far, checked ten times a second: where the peak
// memory of a command goes (go tool pprof -sample_index=inuse_space FILE).
func startMemProfile(path string) {
	go func() {
		var peak uint64
		var ms runtime.MemStats
		for {
			time.Sleep(100 * time.Millisecond)
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc <= peak {
				continue
			}
			peak = ms.HeapAlloc
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}()
}
