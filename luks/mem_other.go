//go:build !linux && !darwin && !windows

package luks

// physicalMemoryKiB is unknown here; the calibration cap alone (1 GiB) applies.
func physicalMemoryKiB() uint64 { return 0 }

// availableMemoryKiB is unknown here.
func availableMemoryKiB() uint64 { return 0 }
