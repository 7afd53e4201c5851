package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"travelkit/internal/bytesize"
)

// SnapshotSummary is the statistics block newer restic versions write.
type SnapshotSummary struct {
	BackupStart         time.Time `json:"backup_start"`
	BackupEnd           time.Time `json:"backup_end"`
	FilesNew            uint      `json:"files_new"`
	FilesChanged        uint      `json:"files_changed"`
	FilesUnmodified     uint      `json:"files_unmodified"`
	DirsNew             uint      `json:"dirs_new"`
	DirsChanged         uint      `json:"dirs_changed"`
	DirsUnmodified      uint      `json:"dirs_unmodified"`
	DataBlobs           int       `json:"data_blobs"`
	TreeBlobs           int       `json:"tree_blobs"`
	DataAdded           uint64    `json:"data_added"`
	DataAddedPacked     uint64    `json:"data_added_packed"`
	TotalFilesProcessed uint      `json:"total_files_processed"`
	TotalBytesProcessed uint64    `json:"total_bytes_processed"`
}

// Snapshot is a snapshot file.
type Snapshot struct {
	Time           time.Time        `json:"time"`
	Parent         *ID              `json:"parent,omitempty"`
	Tree           *ID              `json:"tree"`
	Paths          []string         `json:"paths"`
	Hostname       string           `json:"hostname,omitempty"`
	Username       string           `json:"username,omitempty"`
	UID            uint32           `json:"uid,omitempty"`
	GID            uint32           `json:"gid,omitempty"`
	Excludes       []string         `json:"excludes,omitempty"`
	Tags           []string         `json:"tags,omitempty"`
	Original       *ID              `json:"original,omitempty"`
	ProgramVersion string           `json:"program_version,omitempty"`
	Summary        *SnapshotSummary `json:"summary,omitempty"`

	ID ID `json:"-"`
}

// DecodeSnapshot parses a snapshot file's plaintext.
func DecodeSnapshot(b []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("invalid snapshot: %w", err)
	}
	if s.Tree == nil {
		return nil, fmt.Errorf("invalid snapshot: no tree")
	}
	return &s, nil
}

// SaveSnapshot writes a snapshot file and sets sn.ID.
func (r *Repository) SaveSnapshot(ctx context.Context, sn *Snapshot) error {
	b, err := json.Marshal(sn)
	if err != nil {
		return err
	}
	id, err := r.SaveUnpacked(ctx, SnapshotFile, b)
	if err != nil {
		return fmt.Errorf("failed to save snapshot: %w", err)
	}
	sn.ID = id
	return nil
}

// LoadSnapshot reads one snapshot.
func (r *Repository) LoadSnapshot(ctx context.Context, id ID) (*Snapshot, error) {
	return r.loadSnapshot(ctx, id, -1)
}

// loadSnapshot reads one snapshot whose stored size List reported (or -1).
func (r *Repository) loadSnapshot(ctx context.Context, id ID, size int64) (*Snapshot, error) {
	s, _, err := r.loadSnapshotSized(ctx, id, size)
	return s, err
}

// loadSnapshotSized is loadSnapshot that also returns the plaintext's length.
func (r *Repository) loadSnapshotSized(ctx context.Context, id ID, size int64) (*Snapshot, int, error) {
	b, err := r.loadUnpacked(ctx, SnapshotFile, id, size)
	if err != nil {
		return nil, 0, err
	}
	s, err := DecodeSnapshot(b)
	if err != nil {
		return nil, len(b), fmt.Errorf("snapshot %s: %w", id.Str(), err)
	}
	s.ID = id
	return s, len(b), nil
}

// Bounds of what LoadSnapshots holds: every snapshot is kept in memory, so besides each
// file's own cap (maxSnapshotFile) their plaintext together is capped (a snapshot restic
// or travelkit writes is about a kilobyte: 128 MiB is over 100,000 of them), the snapshot
// files listed are capped (an hourly backup for a hundred years makes 876,000; empty or
// unreadable files add nothing to the plaintext), and the errors about unreadable ones are
// listed up to a count. Variables for the tests.
var (
	maxSnapshotsHeld int64 = 128 << 20
	maxSnapshotFiles       = 1 << 20
	maxBadSnapshots        = 1000
)

// Snapshots loads every readable snapshot, oldest first; damaged snapshot
// files are left out (LoadSnapshots reports them).
func (r *Repository) Snapshots(ctx context.Context) ([]*Snapshot, error) {
	out, _, err := r.LoadSnapshots(ctx)
	return out, err
}

// LoadSnapshots loads every snapshot, oldest first, and returns one error
// per snapshot file that could not be read. err is set only when the
// snapshots cannot be listed at all.
func (r *Repository) LoadSnapshots(ctx context.Context) (sns []*Snapshot, bad []error, err error) {
	var ids []ID
	var sizes []int64
	tooMany := fmt.Errorf("the repository lists more than %d snapshot files, more than travelkit reads (a damaged or crafted repository): %w",
		maxSnapshotFiles, ErrTooLarge)
	err = r.st.List(ctx, SnapshotFile, func(name string, size int64) error {
		if id, err := ParseID(name); err == nil {
			if len(ids) >= maxSnapshotFiles {
				return tooMany
			}
			ids = append(ids, id)
			sizes = append(sizes, size)
		}
		return nil
	})
	if errors.Is(err, tooMany) {
		return nil, nil, tooMany
	}
	if err != nil {
		return nil, nil, err
	}
	var held int64
	more := 0
	for i, id := range ids {
		s, n, err := r.loadSnapshotSized(ctx, id, sizes[i])
		if held += int64(n); held > maxSnapshotsHeld {
			return nil, nil, fmt.Errorf("the %d snapshot files hold more than %s of snapshot data, more than travelkit reads (a snapshot is about a kilobyte: a damaged or crafted repository): %w",
				len(ids), bytesize.Format(maxSnapshotsHeld), ErrTooLarge)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if len(bad) < maxBadSnapshots {
				bad = append(bad, fmt.Errorf("snapshot %s: %w", id, err))
			} else {
				more++
			}
			continue
		}
		sns = append(sns, s)
	}
	if more > 0 {
		bad = append(bad, fmt.Errorf("and %d more snapshot files that cannot be read", more))
	}
	sort.SliceStable(sns, func(i, j int) bool { return sns[i].Time.Before(sns[j].Time) })
	return sns, bad, nil
}

// FindSnapshot resolves "latest", a full ID or a unique ID prefix.
func (r *Repository) FindSnapshot(ctx context.Context, s string) (*Snapshot, error) {
	if s == "latest" {
		all, err := r.Snapshots(ctx)
		if err != nil {
			return nil, err
		}
		if len(all) == 0 {
			return nil, fmt.Errorf("no snapshots in the repository")
		}
		return all[len(all)-1], nil
	}
	if id, err := ParseID(s); err == nil {
		return r.LoadSnapshot(ctx, id)
	}
	if len(s) < 4 {
		return nil, fmt.Errorf("snapshot ID %q too short (need at least 4 hex digits)", s)
	}
	var found []string
	err := r.st.List(ctx, SnapshotFile, func(name string, size int64) error {
		if strings.HasPrefix(name, strings.ToLower(s)) {
			found = append(found, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no snapshot matches %q", s)
	case 1:
		id, _ := ParseID(found[0])
		return r.LoadSnapshot(ctx, id)
	}
	return nil, fmt.Errorf("snapshot ID %q is ambiguous (%d matches)", s, len(found))
}
