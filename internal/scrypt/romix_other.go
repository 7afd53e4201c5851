//go:build !amd64 || purego

package scrypt

// paths lists the implementations this build can run, best first.
var paths = []string{"xcrypto"}

// path selects the implementation; tests change it.
var path = paths[0]

// Key never calls these on this build (path is always "xcrypto").
func blockMix(out, in *uint32, r int)       { panic("scrypt: no assembly on this build") }
func blockMixXor(out, in, v *uint32, r int) { panic("scrypt: no assembly on this build") }
