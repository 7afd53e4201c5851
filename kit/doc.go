// Package kit produces what a travel kit carries besides the encrypted data: the recovery
// key, the escrow files that hold it for colleagues, the RESTORE instructions in several
// languages, and the manifest and SHA256SUMS that let `travelkit verify` detect a tools
// partition that was tampered with.
//
// Everything here is a standard format: the recovery key has the shape of systemd's
// recovery keys, escrow files are age files that the stock `age -d -i IDENTITY` opens, and
// SHA256SUMS is read by `sha256sum -c`. The package knows nothing about disks, partitions
// or LUKS: the builder writes what it returns, and hands it a view of the files to verify.
package kit
