// Package sha256x2 computes SHA-256 (FIPS 180-4) of two independent byte streams in
// one pass: on amd64 with the SHA extensions (SHA-NI), Write2 runs the blocks the two
// streams have in common through one loop with the two lanes' instructions
// interleaved. On AMD Zen, SHA256RNDS2's latency leaves room for a second, independent
// chain of rounds, so two lanes cost little more than one (see the package's
// benchmark).
//
// A Digest behaves as crypto/sha256's: Write, Sum, Reset, Size, BlockSize, and
// MarshalBinary and UnmarshalBinary in crypto/sha256's own format (so a state saved by
// one can be restored in the other). Other architectures, the purego build tag and
// CPUs without SHA-NI use crypto/sha256 itself in every Digest, and Write2 is then two
// Writes.
//
// Imports: golang.org/x/sys and internal packages only. Today it imports no internal
// package.
package sha256x2
