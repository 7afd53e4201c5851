package main

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"travelkit/repo"
)

// A prune that replaces the index (and repacks a pack the restore planned to read)
// between a restore's count and its lock: the restore plans again on the index as it is
// then and restores the snapshot exactly.
func TestRestorePlansAgainAfterPrune(t *testing.T) {
	dir := t.TempDir()
	R, pw, src := filepath.Join(dir, "repo"), filepath.Join(dir, "pw"), filepath.Join(dir, "home")
	os.WriteFile(pw, []byte("replan-password\n"), 0o600)
	os.MkdirAll(src, 0o755)
	keep := bytes.Repeat([]byte("kept as it is\n"), 200)
	// big.bin's first half stays and its second half goes: the chunks of the first half
	// share their pack with chunks no snapshot will use, so the prune repacks them
	big := make([]byte, 8<<20)
	rand.New(rand.NewSource(17)).Read(big)
	os.WriteFile(filepath.Join(src, "keep.txt"), keep, 0o644)
	os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644)
	args := []string{"--repo", R, "--password-file", pw}
	if code := run(append([]string{"init"}, args...)); code != 0 {
		t.Fatalf("init: exit %d", code)
	}
	if code := run(append(append([]string{"backup"}, args...), src)); code != 0 {
		t.Fatalf("backup 1: exit %d", code)
	}
	os.WriteFile(filepath.Join(src, "big.bin"), big[:4<<20], 0o644)
	os.WriteFile(filepath.Join(src, "new.txt"), []byte("added after the first backup\n"), 0o644)
	if code := run(append(append([]string{"backup"}, args...), src)); code != 0 {
		t.Fatalf("backup 2: exit %d", code)
	}
	packsBefore := listNames(t, filepath.Join(R, "data"))

	pruned := false
	restoreCounted = func() {
		restoreCounted = nil
		ctx := context.Background()
		r, err := repo.Open(ctx, repo.NewFolder(R), []byte("replan-password"))
		if err != nil {
			t.Error(err)
			return
		}
		defer r.Close()
		if _, err := r.Forget(ctx, repo.ForgetPolicy{Last: 1}, false); err != nil {
			t.Error(err)
			return
		}
		if _, err := r.Prune(ctx); err != nil {
			t.Error(err)
			return
		}
		pruned = true
	}
	defer func() { restoreCounted = nil }()
	to := filepath.Join(dir, "restored")
	if code := run(append(append([]string{"restore"}, args...), "latest", "--to", to)); code != 0 {
		t.Fatalf("restore: exit %d", code)
	}
	if !pruned {
		t.Fatal("the prune between count and lock did not run")
	}
	// the prune must have removed a pack the first plan read, or this tests nothing
	after := map[string]bool{}
	for _, n := range listNames(t, filepath.Join(R, "data")) {
		after[n] = true
	}
	gone := 0
	for _, n := range packsBefore {
		if !after[n] {
			gone++
		}
	}
	if gone == 0 {
		t.Fatal("the prune removed no pack: nothing forced a new plan")
	}
	got := filepath.Join(to, src)
	for name, want := range map[string][]byte{"keep.txt": keep, "big.bin": big[:4<<20], "new.txt": []byte("added after the first backup\n")} {
		b, err := os.ReadFile(filepath.Join(got, name))
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("%s restored wrong: %v", name, err)
		}
	}
}

// listNames lists the file names under dir, recursively.
func listNames(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, fi.Name())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
