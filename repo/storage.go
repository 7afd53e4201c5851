package repo

import (
	"context"
	"errors"
	"io"
	"io/fs"
)

// FileType names one kind of file in a repository; it is also the folder name.
type FileType string

// The file types of a restic repository.
const (
	ConfigFile   FileType = "config"
	KeyFile      FileType = "keys"
	LockFile     FileType = "locks"
	SnapshotFile FileType = "snapshots"
	IndexFile    FileType = "index"
	PackFile     FileType = "data"
)

// Handle names one stored file. For ConfigFile the name is ignored.
type Handle struct {
	Type FileType
	Name string
}

func (h Handle) String() string {
	if h.Type == ConfigFile {
		return "config"
	}
	return string(h.Type) + "/" + h.Name
}

// Storage is where a repository keeps its files. Every file is written once,
// whole, and never modified. Implementations must be safe for concurrent use.
//
// A missing file is reported with an error that matches fs.ErrNotExist.
type Storage interface {
	// Save stores data under h atomically: after a crash the file is either
	// absent or complete, and it is durable when Save returns.
	Save(ctx context.Context, h Handle, data []byte) error
	// Load returns n bytes of h starting at off; n <= 0 means up to the end.
	// A negative off counts from the end of the file.
	Load(ctx context.Context, h Handle, off int64, n int) ([]byte, error)
	// Stat returns the size of h.
	Stat(ctx context.Context, h Handle) (int64, error)
	// List calls fn for every file of type t, in no particular order.
	List(ctx context.Context, t FileType, fn func(name string, size int64) error) error
	// Remove deletes h.
	Remove(ctx context.Context, h Handle) error
}

// RangeReader is implemented by storages that can read part of a file into
// a caller's buffer, which spares an allocation per blob on restore.
type RangeReader interface {
	ReadAt(ctx context.Context, h Handle, p []byte, off int64) error
}

// LocalReader is a RangeReader on a local disk, where reading a pack blob by
// blob costs no more than reading it whole (over a network each read is a
// request): check --read-data then holds one blob, not a whole pack, per worker.
type LocalReader interface {
	RangeReader
	LocalReads()
}

// Creator is implemented by storages that need to prepare themselves before
// the first file of a new repository is saved (the folder storage makes its
// directories).
type Creator interface {
	Create(ctx context.Context) error
}

// IsNotExist reports whether err says a file is missing.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Streamer is implemented by storages that can write a file as it is made,
// before its name (the hash of its content) is known: a backup then holds no
// pack file in memory, only the blob being written.
type Streamer interface {
	// CreateTemp starts a file of type t under a temporary name that List
	// never reports.
	CreateTemp(ctx context.Context, t FileType) (TempFile, error)
}

// TempFile is a file being written by a Streamer.
type TempFile interface {
	io.Writer
	// Commit makes the file durable and gives it its final name h, atomically:
	// after a crash it is either absent under h or complete.
	Commit(ctx context.Context, h Handle) error
	// Abort removes the temporary file.
	Abort()
}

// Rewinder is implemented by TempFiles that can drop what was written after
// an offset, so that the next Write continues there: a blob compressed
// straight into a streamed pack that did not shrink is written again
// uncompressed in its place.
type Rewinder interface {
	Rewind(off int64) error
}

// Reserver is implemented by TempFiles that can set aside room for the n bytes
// about to be written before the first Write (a streamed pack's target size).
// What is reserved and not written is gone when the file is committed.
type Reserver interface {
	Reserve(n int64)
}

// TempRemover is implemented by streamers that can remove the temporary files an
// interrupted run left behind; prune calls it with the repository locked
// exclusively.
type TempRemover interface {
	RemoveTemps(ctx context.Context) error
}
