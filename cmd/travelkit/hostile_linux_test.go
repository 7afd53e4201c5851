package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"travelkit/internal/craftrepo"
	"travelkit/internal/rsscheck"
)

// The commands themselves on a crafted repository, measured by /usr/bin/time: an index
// file of 600,000 entries (more than travelkit reads of one file) no longer stops
// `snapshots`, which needs no index, and `ls` refuses it by name within the memory bound.
// Before, every command loaded the whole index first (4 files of 1 GiB of JSON crashed
// `snapshots` after 3 minutes).
func TestHostileIndexCLI(t *testing.T) {
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	c := craftrepo.New("crafted")
	c.Snapshot(c.Tree(c.FileBlob("a.txt", 0o600, []byte("a"))), time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), "/home/amina")
	if err := c.WriteDir(repoDir); err != nil {
		t.Fatal(err)
	}
	// one more index file: the same entry 600,000 times
	var z bytes.Buffer
	z.WriteByte(2)
	enc, _ := zstd.NewWriter(&z, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	id := strings.Repeat("ab", 32)
	fmt.Fprintf(enc, `{"packs":[{"id":"%s","blobs":[`, id)
	entry := []byte(fmt.Sprintf(`{"id":"%s","type":"data","offset":0,"length":1000},`, id))
	for i := 0; i < 600_000; i++ {
		enc.Write(entry)
	}
	fmt.Fprintf(enc, `{"id":"%s","type":"data","offset":0,"length":1000}]}]}`, id)
	enc.Close()
	c.PutSealed("index", z.Bytes())
	if err := c.WriteDir(repoDir); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("crafted\n"), 0o600)

	// this test binary runs the CLI when it is called travelkit (testscript.RunMain)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tk := filepath.Join(dir, "travelkit")
	if err := os.Symlink(self, tk); err != nil {
		t.Fatal(err)
	}
	res := rsscheck.RunProgram(t, nil, tk, "snapshots", "--repo", repoDir, "--password-file", pw)
	t.Logf("snapshots: %s", res)
	if res.Err != nil || !strings.Contains(res.Output, "/home/amina") {
		t.Errorf("snapshots needs no index and lists the snapshot: %s", res.Output)
	}
	res = rsscheck.RunProgram(t, nil, tk, "ls", "--repo", repoDir, "--password-file", pw, "latest")
	t.Logf("ls: %s", res)
	if res.Err == nil || !strings.Contains(res.Output, "more than 500000 entries in one index file") {
		t.Errorf("ls refuses the index by name: %s", res.Output)
	}
	for _, r := range []rsscheck.Result{res} {
		if r.Killed || r.MaxRSS > rsscheck.Bound {
			t.Errorf("over the 1 GiB bound: %s", r)
		}
	}
}
