package repo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// restoredPath is where a restore into out puts what was backed up from the
// absolute path src: out/home/amina for /home/amina, out\C\Users\amina for
// C:\Users\amina.
func restoredPath(out, src string) string {
	return filepath.Join(out, filepath.FromSlash(SnapshotPath(src)))
}

// A backup stores its paths as restic does on this system, and a restore
// puts them back below the target at the same place as restic would.
func TestBackupPathsAsRestic(t *testing.T) {
	ctx := context.Background()
	r, _ := initTestRepo(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "f.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test", Time: time.Now(),
		Warn: func(p string, err error) { t.Errorf("backup warned about %s: %v", p, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Fatalf("%d errors", res.Errors)
	}
	sn := res.Snapshot
	if len(sn.Paths) != 1 || sn.Paths[0] != src {
		t.Errorf("snapshot paths %q, want the path as given on this system %q", sn.Paths, src)
	}
	var paths []string
	if err := r.Walk(ctx, *sn.Tree, "/", func(p string, n *Node) error {
		if strings.ContainsAny(n.Name, `/\:`) || n.Name == "" {
			t.Errorf("tree entry %q has no name or a name with a separator or colon", p)
		}
		paths = append(paths, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := SnapshotPath(filepath.Join(src, "sub", "f.txt"))
	found := false
	for _, p := range paths {
		found = found || p == want
	}
	if !found {
		t.Fatalf("%s not in the snapshot; it holds %q", want, paths)
	}
	if vol := filepath.VolumeName(src); vol != "" && !strings.HasPrefix(want, "/"+strings.TrimSuffix(vol, ":")+"/") {
		t.Errorf("%s: the volume %s does not lead the snapshot path", want, vol)
	}
	out := t.TempDir()
	restoreWith(t, r, "latest", out)
	if b, err := os.ReadFile(filepath.Join(restoredPath(out, src), "sub", "f.txt")); err != nil || string(b) != "hello" {
		t.Errorf("restored file: %q %v", b, err)
	}
	// the next backup of the same path finds this one as its parent
	res2, err := r.Backup(ctx, BackupOptions{Paths: []string{src}, Host: "test", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Parent == nil || *res2.Parent != sn.ID {
		t.Errorf("second backup's parent %v, want %v", res2.Parent, sn.ID)
	}
}
