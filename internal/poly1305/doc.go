// Package poly1305 computes one-time Poly1305 authenticators with the same results as
// golang.org/x/crypto/poly1305's Sum, for the read path of a restic repository
// (checking the MAC of every blob before it is decrypted).
//
// On amd64, messages of 4 KiB and more run eight 16-byte blocks at once in assembly
// with AVX-512 (from 2 KiB, or without AVX-512, four with AVX2): each 64-bit lane of a
// register holds one of the accumulators in five 26-bit limbs, every step multiplies
// them by r^8 (r^4) and adds the next blocks, and at the end the accumulators are
// multiplied by r^8 ... r (in Go, radix 2^26) and added; the last blocks that do not
// fill a step are done one at a time in Go. A MACKey keeps r's powers for callers
// that use one r for many messages. Everything else (short messages, other
// architectures, the purego build tag, CPUs without AVX2) is
// golang.org/x/crypto/poly1305 itself.
//
// A wrong tag here would make a good blob look damaged, so callers (repo) recompute a
// tag that does not match with golang.org/x/crypto/poly1305 (SumReference) before
// they call a blob bad; what is written (backups) uses golang.org/x/crypto only.
//
// Imports: golang.org/x/crypto, golang.org/x/sys and internal packages only. Today it
// imports no internal package.
package poly1305
