package main

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"

	"travelkit/repo"
)

// A kit's kept repository key (drive.RepoMasterKey): the first backup keeps it; a wrong
// passphrase is refused as before (ExitWrongKey) and changes nothing on the kit, kept key
// or not; a read-only command with the kept key writes nothing; a kept key that does not
// open the kit's repository (one of a repository made anew) is not used, and the next
// writable command keeps the right one.
func TestKitKeptRepositoryKey(t *testing.T) {
	dir := t.TempDir()
	k := writeTestKit(t, dir, "kept-key")
	pass, home := k.Pass, k.Src
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("not the passphrase"), 0o600); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "kit.img")
	k.build(t, img, "200MiB")
	// a wrong passphrase before any key is kept
	sum := imageSum(t, img)
	if code := run([]string{"backup", "--target", img, "--passphrase-file", wrong, home}); code != ExitWrongKey {
		t.Fatalf("backup with a wrong passphrase: exit %d, want %d", code, ExitWrongKey)
	}
	if imageSum(t, img) != sum {
		t.Fatal("a wrong passphrase changed the kit")
	}
	if code := run([]string{"backup", "--target", img, "--passphrase-file", pass, home}); code != 0 {
		t.Fatalf("backup: exit %d", code)
	}
	want := keptConfig(t, img, pass, nil)

	// with a key kept: a wrong passphrase, then a read-only command, change nothing
	sum = imageSum(t, img)
	if code := run([]string{"backup", "--target", img, "--passphrase-file", wrong, home}); code != ExitWrongKey {
		t.Fatalf("backup with a wrong passphrase, key kept: exit %d, want %d", code, ExitWrongKey)
	}
	if code := run([]string{"snapshots", "--target", img, "--passphrase-file", pass}); code != 0 {
		t.Fatalf("snapshots: exit %d", code)
	}
	if imageSum(t, img) != sum {
		t.Fatal("a wrong passphrase or a read-only command changed the kit")
	}

	// the kept key replaced by another repository's: not taken for the kit's, which opens
	// with its password, and the next backup keeps the right key again
	other, err := repo.Init(context.Background(), repo.NewFolder(filepath.Join(dir, "other")), []byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	keptConfig(t, img, pass, other)
	if code := run([]string{"snapshots", "--target", img, "--passphrase-file", pass}); code != 0 {
		t.Fatalf("snapshots with a foreign kept key: exit %d", code)
	}
	if code := run([]string{"backup", "--target", img, "--passphrase-file", pass, home}); code != 0 {
		t.Fatalf("backup with a foreign kept key: exit %d", code)
	}
	if got := keptConfig(t, img, pass, nil); got != want {
		t.Fatalf("kept key after the backup opens %+v, want %+v", got, want)
	}
}

// keptConfig opens the kit with pass; with keep, it keeps keep's master key in the kit
// and returns; else it returns the config of the repository the kept key opens.
func keptConfig(t *testing.T, img, pass string, keep *repo.Repository) repo.Config {
	t.Helper()
	d, closeKit := openKitImage(t, img, keep != nil)
	defer closeKit()
	p, _ := os.ReadFile(pass)
	u, err := d.Unlock(p, -1, keep != nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	if keep != nil {
		if err := u.KeepRepositoryKey(keep); err != nil {
			t.Fatal(err)
		}
		return repo.Config{}
	}
	r, err := u.OpenKeptRepository(context.Background(), u.RepoStorage())
	if err != nil {
		t.Fatalf("no usable kept key: %v", err)
	}
	return r.Config()
}

func imageSum(t *testing.T, img string) [32]byte {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}
