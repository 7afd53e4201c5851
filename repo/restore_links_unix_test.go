//go:build unix

package repo

import (
	"errors"
	"os"
	"path/filepath"
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
