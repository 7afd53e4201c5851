//go:build (!amd64 && !arm64) || purego || xtsportable

package xts

// paths lists the implementations this build can run, best first.
var paths = []string{"xcrypto"}

// path selects the implementation; tests change it.
var path = paths[0]

func cryptAsm(k *keys, dst, src []byte, n, sectorSize int, tweak, step uint64, decrypt bool) bool {
	return false
}
