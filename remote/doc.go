// Package remote is where a copy of a backup repository lives besides the kit: a folder on
// another drive, an SFTP server, an S3-compatible bucket, or a server of restic's REST
// protocol. It parses restic's location syntax (ParseLocation), opens each as a
// repo.Storage (Open) with credentials that never come from a command line, and reads the
// remotes a kit keeps in its encrypted volume (ParseSettings).
//
// Imports: repo and internal packages only. It must not import drive or kit: it is storage
// for any repository.
package remote
