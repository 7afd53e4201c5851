package luks

import (
	"os"
	"syscall"
)

func physicalMemoryKiB() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit) / 1024
}

// availableMemoryKiB is the memory the kernel can hand out without swapping
// (MemAvailable of /proc/meminfo), or 0 when unknown.
func availableMemoryKiB() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return meminfoField(b, "MemAvailable")
}
