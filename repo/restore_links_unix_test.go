//go:build unix

package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"travelkit/internal/beneath"
	"travelkit/internal/craftrepo"
)

// A target another local user prepared in a folder everyone can write to (the README's
// examples restore to /tmp) is refused before anything is written.
func TestRestoreRefusesPreparedTarget(t *testing.T) {
	o := outsideFolder(t)
	shared := filepath.Join(filepath.Dir(o), "tmp")
	os.Mkdir(shared, 0o1777)
	os.Chmod(shared, 0o1777)
	os.Symlink(o, filepath.Join(shared, "restore"))
	c := craftrepo.New(craftPassword)
	c.Snapshot(c.Tree(c.FileBlob("pwn.txt", 0o644, []byte("owned\n"))), craftTime, "/")
	r := craftOpen(t, c)
	warns := restoreAll(t, r, filepath.Join(shared, "restore"))
	checkOutside(t, o)
	if len(warns) != 1 || !errors.Is(warns[0], beneath.ErrPrepared) {
		t.Errorf("want one refusal naming the prepared folder, got %v", warns)
	}
}

// Restore.Owner: run as root on a person's behalf, every restored entry is theirs, not
// the snapshot's owners'.
func TestRestoreOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owners are set only when running as root (make test runs as root)")
	}
	c := craftrepo.New(craftPassword)
	f := c.FileBlob("note.txt", 0o644, []byte("hello\n"))
	f.UID, f.GID = 0, 0
	sub := c.Tree(f)
	d := craftrepo.Dir("docs", sub, 0o755)
	d.UID, d.GID = 0, 0
	c.Snapshot(c.Tree(d), craftTime, "/")
	r := craftOpen(t, c)
	ctx := context.Background()
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range []*Owner{nil, {UID: 4321, GID: 8765}} {
		target := filepath.Join(t.TempDir(), "to")
		if _, err := r.Restore(ctx, sn, RestoreOptions{Target: target, Owner: owner}); err != nil {
			t.Fatal(err)
		}
		want := [2]uint32{0, 0}
		if owner != nil {
			want = [2]uint32{4321, 8765}
		}
		for _, p := range []string{"docs", "docs/note.txt"} {
			fi, err := os.Lstat(filepath.Join(target, p))
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if got := [2]uint32{st.Uid, st.Gid}; got != want {
				t.Errorf("owner %v: %s is owned by %v, want %v", owner, p, got, want)
			}
		}
	}
}
