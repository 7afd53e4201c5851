package luks

import "golang.org/x/sys/unix"

// darwinSysctl reads the sysctl values memory figures come from; tests replace it.
var darwinSysctl = func(name string) (uint64, error) {
	if name == "hw.memsize" {
		return unix.SysctlUint64(name)
	}
	v, err := unix.SysctlUint32(name)
	return uint64(v), err
}

// physicalMemoryKiB is hw.memsize.
func physicalMemoryKiB() uint64 {
	n, err := darwinSysctl("hw.memsize")
	if err != nil {
		return 0
	}
	return n / 1024
}

// availableMemoryKiB, see darwinAvailableKiB; 0 when a value cannot be read.
func availableMemoryKiB() uint64 {
	var v [5]uint64
	for i, name := range []string{"hw.pagesize", "vm.page_free_count", "vm.page_speculative_count",
		"vm.page_purgeable_count", "vm.page_pageable_external_count"} {
		n, err := darwinSysctl(name)
		if err != nil {
			return 0
		}
		v[i] = n
	}
	return darwinAvailableKiB(v[0], v[1], v[2], v[3], v[4])
}
