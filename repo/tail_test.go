package repo

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// orderStore is a Folder that logs, in order, when an index file is durable under its
// name (its Save returned), when a snapshot written ahead was synced, and when a
// snapshot was named; failIndex makes every index file's Save fail.
type orderStore struct {
	*Folder
	failIndex bool
	mu        sync.Mutex
	log       []string
}

func (o *orderStore) note(s string) {
	o.mu.Lock()
	o.log = append(o.log, s)
	o.mu.Unlock()
}

func (o *orderStore) Save(ctx context.Context, h Handle, data []byte) error {
	if h.Type == IndexFile && o.failIndex {
		return errInjected
	}
	err := o.Folder.Save(ctx, h, data)
	if err == nil {
		o.note(string(h.Type) + " saved")
	}
	return err
}

func (o *orderStore) CreateTemp(ctx context.Context, t FileType) (TempFile, error) {
	tf, err := o.Folder.CreateTemp(ctx, t)
	if err != nil || t != SnapshotFile {
		return tf, err
	}
	return &orderTemp{TempFile: tf, o: o}, nil
}

type orderTemp struct {
	TempFile
	o *orderStore
}

func (t *orderTemp) Sync() error {
	err := t.TempFile.(interface{ Sync() error }).Sync()
	t.o.note("snapshot synced")
	return err
}

func (t *orderTemp) Commit(ctx context.Context, h Handle) error {
	t.o.note("snapshot named")
	return t.TempFile.Commit(ctx, h)
}

// A backup into a folder writes its snapshot and syncs it under a temporary name while
// its index files are written, and names it only after the last of them is durable:
// after a crash no snapshot names blobs that no index file holds. With the index
// failing, the backup fails, no snapshot is named and no temporary file is left.
func TestSnapshotNamedAfterIndex(t *testing.T) {
	ctx := context.Background()
	_, dir := initTestRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 11)
	saved := maxIndexEntries
	maxIndexEntries = 5
	defer func() { maxIndexEntries = saved }()

	st := &orderStore{Folder: NewFolder(dir)}
	r := openTestRepo(t, st)
	sn, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	named := slices.Index(st.log, "snapshot named")
	synced := slices.Index(st.log, "snapshot synced")
	last := -1
	for i, s := range st.log {
		if s == "index saved" {
			last = i
		}
	}
	if named < 0 || synced < 0 || last < 0 {
		t.Fatalf("events: %s", strings.Join(st.log, ", "))
	}
	if named < last || synced > named {
		t.Fatalf("the snapshot was named before the index was durable: %s", strings.Join(st.log, ", "))
	}
	if len(tempFiles(t, dir)) > 0 {
		t.Fatalf("temporary files left: %v", tempFiles(t, dir))
	}
	r2 := openTestRepo(t, NewFolder(dir))
	mustCheck(t, r2)
	if _, err := r2.LoadSnapshot(ctx, sn.Snapshot.ID); err != nil {
		t.Fatal(err)
	}
	resticCmd(t, dir, "check", "--read-data")

	// the index fails at the end (one index file, written by Flush): the snapshot
	// written ahead is dropped, nothing is left behind
	maxIndexEntries = saved
	mutate(t, src, 3)
	st = &orderStore{Folder: NewFolder(dir), failIndex: true}
	r = openTestRepo(t, st)
	before, err := r.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test", Time: time.Now()}); !errors.Is(err, errInjected) {
		t.Fatalf("backup with a failing index: %v", err)
	}
	if slices.Contains(st.log, "snapshot named") || !slices.Contains(st.log, "snapshot synced") {
		t.Fatalf("want a snapshot written ahead and not named: %s", strings.Join(st.log, ", "))
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	r2 = openTestRepo(t, NewFolder(dir))
	after, err := r2.Snapshots(ctx)
	if err != nil || len(after) != len(before) {
		t.Fatalf("%d snapshots before, %d after (%v)", len(before), len(after), err)
	}
	mustCheck(t, r2)
}
