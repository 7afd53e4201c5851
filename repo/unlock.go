package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// RemoveStaleLocks removes the lock files whose process is gone: older than 30 minutes
// without a refresh, or made on this host by a process that no longer runs (restic
// unlock). A copy cut off with its server leaves its lock behind at the server; the next
// copy clears it this way. It returns how many were removed.
func (r *Repository) RemoveStaleLocks(ctx context.Context) (int, error) {
	n, _, err := r.RemoveLocks(ctx, false)
	return n, err
}

// LockInfo describes a lock file that RemoveLocks left in place.
type LockInfo struct {
	ID   string
	Host string
	PID  int
	Time time.Time
}

// RemoveLocks removes stale lock files (restic unlock): older than 30 minutes, or of a
// process that no longer runs on this computer. With all it removes every lock file,
// held or not (restic unlock --remove-all). It returns how many were removed and the
// locks left in place.
func (r *Repository) RemoveLocks(ctx context.Context, all bool) (removed int, held []LockInfo, err error) {
	names, sizes, err := r.listLocks(ctx)
	if err != nil {
		return 0, nil, err
	}
	for i, n := range names {
		if err := ctx.Err(); err != nil {
			return removed, held, err
		}
		if !all {
			id, err := ParseID(n)
			if err != nil {
				continue
			}
			b, err := r.loadUnpacked(ctx, LockFile, id, sizes[i])
			var l lockJSON
			if err != nil || json.Unmarshal(b, &l) != nil {
				// unreadable: only --remove-all takes it away, as restic does
				held = append(held, LockInfo{ID: n})
				continue
			}
			if !l.stale() {
				held = append(held, LockInfo{ID: n, Host: l.Hostname, PID: l.PID, Time: l.Time})
				continue
			}
		}
		if err := r.st.Remove(ctx, Handle{LockFile, n}); err != nil && !IsNotExist(err) {
			return removed, held, fmt.Errorf("removing lock %s: %w", n[:min(8, len(n))], err)
		}
		removed++
	}
	return removed, held, nil
}
