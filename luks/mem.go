package luks

import (
	"bytes"
	"strconv"
)

// The machine's memory, for the Argon2 memory cost: calibration never asks for more
// than half the physical memory, and a cost above the available memory is refused.
// Each system has its own source (mem_linux.go, mem_darwin.go, mem_windows.go); 0
// means unknown.

// meminfoField returns a "Name:   1234 kB" line's value in KiB from /proc/meminfo.
func meminfoField(b []byte, name string) uint64 {
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(bytes.TrimSpace(k)) != name {
			continue
		}
		f := bytes.Fields(v)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		if len(f) > 1 && string(f[1]) != "kB" {
			return 0
		}
		return n
	}
	return 0
}

// darwinAvailableKiB is what macOS can hand out without compressing or swapping
// others' memory: free, speculative and purgeable pages and the file cache
// (external pageable pages), as sysctl vm.page_*_count report them, in pages of
// hw.pagesize bytes. Activity Monitor's "Memory Used" leaves these out.
func darwinAvailableKiB(pageSize, free, speculative, purgeable, external uint64) uint64 {
	return (free + speculative + purgeable + external) * pageSize / 1024
}
