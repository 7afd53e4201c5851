package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"travelkit/internal/craftrepo"
)

// TestCheckEscapesNames: `check` prints the path of a tree it cannot load, and that path
// comes from the repository: a folder named with terminal escapes reaches the terminal
// escaped (issue 13 A4), like every other name.
func TestCheckEscapesNames(t *testing.T) {
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	c := craftrepo.New("crafted")
	var missing craftrepo.ID
	missing[0] = 0x5a // a subtree no pack holds
	root := c.Tree(c.FileBlob("a.txt", 0o600, []byte("a")), craftrepo.Dir("evil\x1b[2J\x1b[HOK", missing, 0o700))
	c.Snapshot(root, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), "/home/amina")
	if err := c.WriteDir(repoDir); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("crafted\n"), 0o600)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tk := filepath.Join(dir, "travelkit")
	if err := os.Symlink(self, tk); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tk, "check", "--repo", repoDir, "--password-file", pw).CombinedOutput()
	t.Logf("%v\n%s", err, out)
	if err == nil {
		t.Fatal("check passed a repository with a missing tree")
	}
	if strings.Contains(string(out), "\x1b") {
		t.Error("check printed a raw escape from the repository")
	}
	if !strings.Contains(string(out), `evil\x1b[2J\x1b[HOK`) {
		t.Error("check does not name the folder (escaped)")
	}
}
