// Package testfs gives tests a disk that fills up: a tmpfs of a few MiB mounted on a
// folder, so that what the code does on a full disk runs against the kernel's own ENOSPC
// (a folder repository, an SFTP server's disk, a whole `travelkit copy`); or a small
// journaled ext4 on a loop device, for what only ext4 does (fallocate). Mounting needs
// Linux and root; CI runs the tests as root. Elsewhere the package is empty.
//
// Only tests import this package; nothing in the shipped program does.
//
// Imports: internal packages only. Today it imports none.
package testfs
