// Package poly1305 computes one-time Poly1305 authenticators with the same results as
// golang.org/x/crypto/poly1305's Sum, for the read path of a restic repository
// (checking the MAC of every blob before it is decrypted).
//
// On amd64 with AVX2, messages of VectorMin bytes and more run four 16-byte blocks at
// once in assembly: each 64-bit lane of a 256-bit register holds one of four
// accumulators in five 26-bit limbs, every step multiplies the four by r^4 and adds the
// next four blocks, and at the end the accumulators are multiplied by r^4, r^3, r^2
// and r (in Go, radix 2^26) and added; the last blocks that do not fill 64 bytes are
// done one at a time in Go. Everything else (short messages, other architectures, the
// purego build tag, CPUs without AVX2) is golang.org/x/crypto/poly1305 itself.
//
// A wrong tag here would make a good blob look damaged, so callers (repo) recompute a
// tag that does not match with golang.org/x/crypto/poly1305 (SumReference) before
// they call a blob bad; what is written (backups) uses golang.org/x/crypto only.
//
// Imports: golang.org/x/crypto, golang.org/x/sys and internal packages only. Today it
// imports no internal package.
package poly1305
