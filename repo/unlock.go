package repo

import (
	"context"
	"encoding/json"
)

// RemoveStaleLocks removes the lock files whose process is gone: older than 30 minutes
// without a refresh, or made on this host by a process that no longer runs (restic
// unlock). A copy cut off with its server leaves its lock behind at the server; the next
// copy clears it this way. It returns how many were removed.
func (r *Repository) RemoveStaleLocks(ctx context.Context) (int, error) {
	var names []string
	if err := r.st.List(ctx, LockFile, func(name string, size int64) error {
		names = append(names, name)
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		id, err := ParseID(name)
		if err != nil {
			continue
		}
		b, err := r.LoadUnpacked(ctx, LockFile, id)
		if err != nil {
			continue // unreadable: left to restic unlock --remove-all
		}
		var l lockJSON
		if json.Unmarshal(b, &l) != nil || !l.stale() {
			continue
		}
		if err := r.st.Remove(ctx, Handle{LockFile, name}); err != nil && !IsNotExist(err) {
			return n, err
		}
		n++
	}
	return n, nil
}
