package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/user"
	"strconv"
	"sync"
	"time"

	"travelkit/internal/termsafe"
)

// LockedError says another process holds a conflicting lock.
type LockedError struct {
	Host string
	PID  int
	Time time.Time
	ID   string
	Excl bool
}

func (e *LockedError) Error() string {
	kind := "shared"
	if e.Excl {
		kind = "exclusive"
	}
	// the host name comes from the lock file: escaped for the terminal
	return fmt.Sprintf("repository is already locked (%s lock by PID %d on %s since %s, lock %s)",
		kind, e.PID, termsafe.Name(e.Host), e.Time.Format(time.RFC3339), e.ID[:min(8, len(e.ID))])
}

type lockJSON struct {
	Time      time.Time `json:"time"`
	Exclusive bool      `json:"exclusive"`
	Hostname  string    `json:"hostname"`
	Username  string    `json:"username"`
	PID       int       `json:"pid"`
	UID       uint32    `json:"uid,omitempty"`
	GID       uint32    `json:"gid,omitempty"`
}

const (
	staleLockTimeout = 30 * time.Minute
	lockRefresh      = 5 * time.Minute
)

func (l *lockJSON) stale() bool {
	if time.Since(l.Time) > staleLockTimeout {
		return true
	}
	host, _ := os.Hostname()
	if l.Hostname != host {
		return false
	}
	// a PID no process can have: kill(0) and kill(-1) would ask about a process group
	// or every process, and a PID past 32 bits names another one once truncated
	if l.PID <= 0 || l.PID > math.MaxInt32 {
		return true
	}
	return !processAlive(l.PID)
}

// Lock is a held repository lock; Unlock releases it.
type Lock struct {
	r    *Repository
	mu   sync.Mutex
	id   ID
	info lockJSON
	stop chan struct{}
	done chan struct{}
	// alone: no other process held a lock when this one was taken
	alone bool
}

// tempsBeforeRemover is a TempRemover that can spare files written since a time
// (Folder: another process may start a backup into the same folder at once).
type tempsBeforeRemover interface {
	RemoveTempsBefore(ctx context.Context, t time.Time) error
}

// RemoveTemps removes the temporary files interrupted runs left in the storage
// (TempRemover), when no other process held a lock as this one was taken: a backup
// calls it once locked, so a killed backup's partial packs go at the next one.
// Files last written after the lock was taken are kept.
func (l *Lock) RemoveTemps(ctx context.Context) error {
	if l == nil || !l.alone {
		return nil
	}
	switch st := l.r.st.(type) {
	case tempsBeforeRemover:
		return st.RemoveTempsBefore(ctx, l.info.Time)
	case TempRemover:
		return st.RemoveTemps(ctx)
	}
	return nil
}

func newLockInfo(exclusive bool) lockJSON {
	host, _ := os.Hostname()
	l := lockJSON{Time: time.Now(), Exclusive: exclusive, Hostname: host, PID: os.Getpid()}
	if u, err := user.Current(); err == nil {
		l.Username = u.Username
		if v, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			l.UID = uint32(v)
		}
		if v, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			l.GID = uint32(v)
		}
	}
	return l
}

// checkLocks returns a LockedError when a lock other than own conflicts.
func (r *Repository) checkLocks(ctx context.Context, exclusive bool, own ID) error {
	_, err := r.otherLocks(ctx, exclusive, own)
	return err
}

// listLocks lists the repository's lock files: their names and sizes.
func (r *Repository) listLocks(ctx context.Context) (names []string, sizes []int64, err error) {
	err = r.st.List(ctx, LockFile, func(name string, size int64) error {
		names = append(names, name)
		sizes = append(sizes, size)
		return nil
	})
	return names, sizes, err
}

// otherLocks is checkLocks that also says whether any lock but own is held (not
// stale), conflicting or not.
func (r *Repository) otherLocks(ctx context.Context, exclusive bool, own ID) (held bool, err error) {
	names, sizes, err := r.listLocks(ctx)
	if err != nil {
		return false, err
	}
	for i, n := range names {
		id, err := ParseID(n)
		if err != nil || id == own {
			continue
		}
		b, err := r.loadUnpacked(ctx, LockFile, id, sizes[i])
		if err != nil {
			if IsNotExist(err) {
				continue
			}
			// an unreadable lock file is treated as held, as restic does
			return true, &LockedError{ID: n, Excl: true}
		}
		var l lockJSON
		if json.Unmarshal(b, &l) != nil {
			return true, &LockedError{ID: n, Excl: true}
		}
		if l.stale() {
			continue
		}
		held = true
		if exclusive || l.Exclusive {
			return true, &LockedError{Host: l.Hostname, PID: l.PID, Time: l.Time, ID: n, Excl: l.Exclusive}
		}
	}
	return held, nil
}

// Lock takes a shared (backup, check, restore) or exclusive (prune, forget) lock.
func (r *Repository) Lock(ctx context.Context, exclusive bool) (*Lock, error) {
	if err := r.checkLocks(ctx, exclusive, ID{}); err != nil {
		return nil, err
	}
	l := &Lock{r: r, info: newLockInfo(exclusive), stop: make(chan struct{}), done: make(chan struct{})}
	b, _ := json.Marshal(l.info)
	id, err := r.SaveUnpacked(ctx, LockFile, b)
	if err != nil {
		return nil, fmt.Errorf("failed to create lock: %w", err)
	}
	l.id = id
	// someone may have locked at the same moment
	held, err := r.otherLocks(ctx, exclusive, id)
	if err != nil {
		_ = r.st.Remove(ctx, Handle{LockFile, id.String()})
		return nil, err
	}
	l.alone = !held
	go l.refresh()
	return l, nil
}

func (l *Lock) refresh() {
	defer close(l.done)
	t := time.NewTicker(lockRefresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.info.Time = time.Now()
			b, _ := json.Marshal(l.info)
			ctx := context.Background()
			if id, err := l.r.SaveUnpacked(ctx, LockFile, b); err == nil {
				_ = l.r.st.Remove(ctx, Handle{LockFile, l.id.String()})
				l.id = id
			}
			l.mu.Unlock()
		}
	}
}

// Unlock removes the lock file.
func (l *Lock) Unlock() {
	if l == nil {
		return
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.r.st.Remove(context.Background(), Handle{LockFile, l.id.String()})
}
