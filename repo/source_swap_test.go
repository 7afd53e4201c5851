//go:build linux || darwin || freebsd || netbsd || openbsd || windows

package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A folder swapped, between its parent's listing and its own, for a link to a
// folder outside what is backed up (swapFolder: a symbolic link; on Windows a
// junction, or under Wine, which makes none, a file) is not followed: it is
// warned, kept empty, and nothing from outside is in the snapshot; the backup
// stores everything else.
func TestBackupFolderSwapped(t *testing.T) {
	r, src, _ := swapTest(t)
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "b"), []byte("content of b"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("not to be backed up"), 0o600); err != nil {
		t.Fatal(err)
	}
	var swappedIn os.FileMode
	orig := listFolder
	listFolder = func(p string) ([]dirInfo, error) {
		ents, err := orig(p)
		if p == src {
			// src is listed: sub is a folder there; now it is replaced
			if err := os.Remove(filepath.Join(sub, "b")); err != nil {
				return nil, err
			}
			if err := os.Remove(sub); err != nil {
				return nil, err
			}
			m, err := swapFolder(t, sub, outside)
			if err != nil {
				return nil, err
			}
			swappedIn = m
		}
		return ents, err
	}
	defer func() { listFolder = orig }()
	warned := map[string]error{}
	res, err := r.Backup(context.Background(), BackupOptions{Paths: []string{src}, Host: "h",
		Warn: func(p string, err error) { warned[p] = err }})
	if err != nil {
		t.Fatal(err)
	}
	var nf *NotFolderError
	if res.Errors != 1 || len(warned) != 1 || !errors.As(warned[sub], &nf) || nf.Mode.Type() != swappedIn.Type() {
		t.Fatalf("want one warning, a NotFolderError of mode %v for %s; got %d errors, %v", swappedIn, sub, res.Errors, warned)
	}
	wantSnapshotFiles(t, r, res.Snapshot, "a", "swapped", "z")
	var dirs []string
	if err := r.Walk(context.Background(), *res.Snapshot.Tree, "/", func(p string, n *Node) error {
		if n.Type == NodeDir && filepath.Base(p) == "sub" {
			dirs = append(dirs, p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 1 {
		t.Errorf("folders named sub in the snapshot: %v, want one (kept empty)", dirs)
	}
	// removed before t.TempDir's cleanup (a junction's removal removes the
	// link, not its target)
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
}
