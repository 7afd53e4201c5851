// Package image writes and reads the partitions and filesystems of a travel kit
// (GPT, FAT32, ext4) over any random-access device: an image file, a block
// device, or a decrypted LUKS volume. It knows nothing about LUKS or kits.
//
// Subpackages:
//   - gpt: GUID partition table with protective MBR.
//   - fat32: create a FAT32 filesystem holding a known file set; read it back.
//   - ext4: create ext4 (with journal, lazily initialised inode tables), mkdir,
//     write, read, list, stat; journal replay for volumes a kernel left dirty.
//
// Imports: image/gpt and internal packages only. It must not import luks, repo, kit or
// target: it works over any ReaderAt/WriterAt.
package image
