// Package scrypt derives keys with scrypt (RFC 7914), the key derivation of a restic
// repository's key files, with the same signature and results as
// golang.org/x/crypto/scrypt's Key.
//
// On amd64 the heart of scrypt (ROMix: BlockMix and its salsa20/8 core) runs in
// assembly, chosen at run time: AVX-512 (VPROLD rotates on 128-bit registers) where the
// CPU has AVX512F and AVX512VL, else SSE2, which every amd64 CPU has. Both hold each
// 64-byte salsa20 block in four registers in the shuffled-diagonal order
// (x0 x5 x10 x15 | x12 x1 x6 x11 | x8 x13 x2 x7 | x4 x9 x14 x3), so that a column round
// and a row round are the same four vector steps with a lane rotation between them; the
// whole work area is kept in that order, and converted only on the way in and out.
// Other architectures, and the purego build tag, use golang.org/x/crypto/scrypt itself.
//
// On Linux the work area's pages (32 MiB for restic's N=32768, r=8) are mapped by
// another goroutine while ROMix fills them (prefault): in a fresh process, as every
// command that opens a repository is, the derivation then took 57.8 ms instead of 68.8
// (medians of 15 runs each, in turn), on a core that otherwise waits for the key.
//
// A wrong key derivation would lock people out of their backups, so callers that open a
// key (repo) recompute with golang.org/x/crypto/scrypt (KeyReference) before they report
// a wrong password.
//
// Imports: golang.org/x/crypto and internal packages only. Today it imports no internal
// package.
package scrypt
