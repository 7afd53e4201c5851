// Package mirror copies a restic repository to another storage file by file, without
// decrypting or re-encrypting anything: the copy is the same repository, which restic
// opens with the same keys.
//
// Every file of a repository (but config) is named by the sha256 of its content, and
// never changes. Copy sends every file the destination lacks, checks each against its
// name before sending and after (reading it back, or by the server's own check where
// it does one), and sends keys and config first, then data, then index, then snapshots,
// each kind only when the one before it is complete: an interrupted copy never shows a
// snapshot whose data is missing, and running it again completes it, skipping what is
// there. Nothing is deleted at the destination unless Options.Prune says so.
//
// Imports: i18n, remote, repo and internal packages only.
package mirror
