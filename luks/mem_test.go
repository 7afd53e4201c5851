package luks

import (
	"crypto/sha256"
	"runtime"
	"testing"
)

// Linux, macOS and Windows report the machine's memory and the process's CPU time:
// calibration keeps Argon2 under half the physical memory, costs above the available
// memory are refused, and calibration measures CPU time, not wall time.
func TestMemoryAndCPUTimeFigures(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "windows":
	default:
		t.Skipf("no memory figures on %s (the 1 GiB cap alone applies)", runtime.GOOS)
	}
	total, avail := physicalMemoryKiB(), availableMemoryKiB()
	if total < 64<<10 || avail == 0 || avail > total {
		t.Errorf("physical memory %d KiB, available %d KiB", total, avail)
	}
	c0 := cpuTime()
	h := sha256.Sum256(nil)
	for i := 0; i < 50_000_000 && cpuTime() == c0; i++ {
		for j := 0; j < 1000; j++ {
			h = sha256.Sum256(h[:])
		}
	}
	if c1 := cpuTime(); c1 <= c0 || c0 == 0 {
		t.Errorf("CPU time did not advance while hashing: %v then %v", c0, c1)
	}
}

func TestMeminfoField(t *testing.T) {
	b := []byte("MemTotal:       16318412 kB\nMemFree:          612340 kB\nMemAvailable:    9876543 kB\nHugePages_Total:       0\n")
	if got := meminfoField(b, "MemAvailable"); got != 9876543 {
		t.Errorf("MemAvailable = %d", got)
	}
	if got := meminfoField(b, "MemTotal"); got != 16318412 {
		t.Errorf("MemTotal = %d", got)
	}
	if got := meminfoField(b, "HugePages_Total"); got != 0 {
		t.Errorf("a field without kB = %d", got)
	}
	if got := meminfoField(b, "Missing"); got != 0 {
		t.Errorf("a missing field = %d", got)
	}
}

// macOS: free, speculative, purgeable and file-cache pages count as available. The
// figures have the shape `sysctl vm.page_free_count ...` prints on an 8 GiB Mac with
// 16 KiB pages; they were not read off a real Mac.
func TestDarwinAvailable(t *testing.T) {
	if got := darwinAvailableKiB(16384, 12000, 3000, 500, 90000); got != (12000+3000+500+90000)*16 {
		t.Errorf("available = %d KiB", got)
	}
}
