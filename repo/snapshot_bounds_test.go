package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"travelkit/internal/craftrepo"
)

// TestSnapshotListBounds: LoadSnapshots holds every snapshot, so the snapshot files it
// lists and the errors it keeps about unreadable ones are bounded (the bounds lowered here;
// the harness grows the plaintext bound: "many large snapshots").
func TestSnapshotListBounds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	c := craftrepo.New(craftPassword)
	tree := c.Tree()
	for i := 0; i < 3; i++ {
		c.Snapshot(tree, craftTime.Add(time.Duration(i)*time.Hour), "/home/amina")
	}
	if err := c.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	// three files that are not snapshots at all (empty: no plaintext to count)
	for _, n := range []string{"a1", "b2", "c3"} {
		if err := os.WriteFile(filepath.Join(dir, "snapshots", strings.Repeat(n, 32)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	r, err := Open(ctx, NewFolder(dir), []byte(craftPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer func(f, b int) { maxSnapshotFiles, maxBadSnapshots = f, b }(maxSnapshotFiles, maxBadSnapshots)

	maxBadSnapshots = 1
	sns, bad, err := r.LoadSnapshots(ctx)
	if err != nil || len(sns) != 3 || len(bad) != 2 || !strings.Contains(bad[1].Error(), "and 2 more") {
		t.Fatalf("bad snapshots not capped: %d snapshots, bad %v, err %v", len(sns), bad, err)
	}

	maxSnapshotFiles = 5
	_, _, err = r.LoadSnapshots(ctx)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 5 snapshot files") {
		t.Fatalf("6 snapshot files with a bound of 5: %v", err)
	}
	t.Log(err)
}
