//go:build arm64 && !purego && !xtsportable

package xts

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// paths lists the implementations this CPU can run, best first.
var paths = func() []string {
	if cpu.ARM64.HasAES {
		return []string{"armv8", "xcrypto"}
	}
	return []string{"xcrypto"}
}()

// path selects the implementation; tests change it.
var path = paths[0]

// The assembly functions process n >= 1 sectors of sectorSize bytes (a positive
// multiple of 16); sector i uses the plain64 IV tweak + i*step.

//go:noescape
func encARMv8(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

//go:noescape
func decARMv8(k *keys, dst, src *byte, n, sectorSize int, tweak, step uint64)

func cryptAsm(k *keys, dst, src []byte, n, sectorSize int, tweak, step uint64, decrypt bool) bool {
	if path != "armv8" {
		return false
	}
	d, s := unsafe.SliceData(dst), unsafe.SliceData(src)
	if decrypt {
		decARMv8(k, d, s, n, sectorSize, tweak, step)
	} else {
		encARMv8(k, d, s, n, sectorSize, tweak, step)
	}
	return true
}
