// Package aesctr decrypts restic's AES-256-CTR (a 128-bit big-endian counter from the
// blob's IV, wrapping at 2^128) with the same results as crypto/aes with
// crypto/cipher's CTR, for the read path of a restic repository.
//
// On amd64 with VAES and AVX-512, messages of 256 bytes and more run in assembly with
// four blocks in each 512-bit register and 32 blocks in flight; the low 64 bits of the
// counter never wrap inside the assembly (the Go code splits a message there and
// carries into the high half). The last blocks that do not fill four, other
// architectures, the purego build tag and CPUs without VAES use crypto/aes and
// crypto/cipher themselves.
//
// A wrong keystream here would turn a good blob into garbage, so the caller (repo)
// uses it only where the plaintext is checked against its ID (data and tree blobs),
// and decrypts a blob whose plaintext does not check out again with crypto/aes before
// it calls the blob bad; what is written (backups) uses crypto/aes only.
//
// Imports: golang.org/x/sys and internal packages only. Today it imports no internal
// package.
package aesctr
