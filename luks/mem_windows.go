package luks

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// memoryStatusEx is MEMORYSTATUSEX (sysinfoapi.h).
type memoryStatusEx struct {
	Length               uint32
	MemoryLoad           uint32
	TotalPhys            uint64
	AvailPhys            uint64
	TotalPageFile        uint64
	AvailPageFile        uint64
	TotalVirtual         uint64
	AvailVirtual         uint64
	AvailExtendedVirtual uint64
}

var procGlobalMemoryStatusEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")

func memoryStatus() *memoryStatusEx {
	ms := &memoryStatusEx{}
	ms.Length = uint32(unsafe.Sizeof(*ms))
	if ok, _, _ := procGlobalMemoryStatusEx.Call(uintptr(unsafe.Pointer(ms))); ok == 0 {
		return nil
	}
	return ms
}

// physicalMemoryKiB is GlobalMemoryStatusEx's ullTotalPhys.
func physicalMemoryKiB() uint64 {
	if ms := memoryStatus(); ms != nil {
		return ms.TotalPhys / 1024
	}
	return 0
}

// availableMemoryKiB is GlobalMemoryStatusEx's ullAvailPhys: memory that can be
// handed out without writing others' to the page file.
func availableMemoryKiB() uint64 {
	if ms := memoryStatus(); ms != nil {
		return ms.AvailPhys / 1024
	}
	return 0
}
