// Package repo reads and writes restic repositories, format version 2
// (zstd), so that restic >= 0.14 reads what travelkit writes and the other
// way round. The authority for the format is restic's doc/design.rst.
//
// The package sees only a Storage: save a whole named file atomically,
// load (all or a range), stat, list and remove. Folder is the plain-folder
// storage; any other place (a filesystem inside an encrypted volume, a
// remote) implements the same five methods and is passed to Init or Open.
//
// A typical session:
//
//	r, err := repo.Open(ctx, repo.NewFolder(dir), password)
//	err = r.LoadIndex(ctx)
//	lock, err := r.Lock(ctx, false)
//	defer lock.Unlock()
//	res, err := r.Backup(ctx, repo.BackupOptions{Paths: paths})
//
// Writes are ordered for crash consistency: pack files first, then the
// index that names them, then the snapshot. An interrupted run leaves only
// unreferenced pack files, which check reports as harmless and prune removes.
//
// Imports: internal packages only. It must not import drive, luks, image or kit: a kit's
// repository reaches it as a Storage.
package repo
