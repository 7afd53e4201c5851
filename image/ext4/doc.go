// Package ext4 creates ext4 filesystems on any image.Device (with a journal,
// uninit_bg and flex_bg, inode tables initialised lazily as mke2fs's
// lazy_itable_init does, so a 64 GiB volume costs a few MiB of writes), and
// reads and writes files and directories on them. Volumes that a kernel left
// with needs_recovery set are read through their jbd2 journal (replayed in
// memory; replayed to disk before travelkit writes).
//
// The on-disk facts follow the kernel's "ext4 Data Structures and
// Algorithms" documentation; nothing here is derived from other code.
//
// Imports: internal packages only. It must not import luks, repo or drive: it sees a
// device, not what is under it.
package ext4
