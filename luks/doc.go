// Package luks reads, writes and manages LUKS2 volumes in userspace, byte-compatible
// with cryptsetup 2.x: aes-xts-plain64 data segments, argon2id/argon2i/pbkdf2 keyslots,
// both header copies, tokens, and a decrypted Volume as io.ReaderAt/io.WriterAt.
//
// It knows nothing about disks, partitions or kits: it works on any Device of a given size.
//
// Headers come from drives that may have been tampered with: every offset and size is
// bounded, both copies are checked, and anything unsupported is refused with a clear error.
//
// Imports: luks/internal/xts and internal packages only. It must not import tpm, tpmbind,
// image, repo, kit, target or drive: those build on it.
package luks
