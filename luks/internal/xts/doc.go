// Package xts implements AES-XTS with plain64 IVs (cryptsetup's aes-xts-plain64) for
// whole sectors, as LUKS2 uses it for its data segment.
//
// On amd64 the work is done in assembly, chosen at run time: VAES on ZMM registers
// (AVX-512, 16 blocks in flight), else VAES on YMM registers (AVX2, 16 blocks), else
// AES-NI (8 blocks). On arm64 it uses the ARMv8 Cryptography Extensions (8 blocks).
// Other architectures, and the purego and xtsportable build tags, use the portable
// path: golang.org/x/crypto/xts over crypto/aes. Round keys are expanded here
// (keyexp.go); the assembly advances the tweaks in GF(2^128) in registers. The
// generators in _asm write the assembly (see _asm/README.md; avo for amd64).
//
// Sectors are multiples of 16 bytes, so ciphertext stealing is never needed.
//
// Imports: internal packages only.
package xts
