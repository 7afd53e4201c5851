package drive_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"travelkit/repo"
)

// A writable command keeps the repository's master key in the volume; the next opens the
// repository with it (no scrypt) and Accept ends its unlock with keyslot 0's key, which
// then writes; a kept key that does not open the repository (another repository's) is
// refused, and a read-only kit writes none.
func TestKeptRepositoryKey(t *testing.T) {
	ctx := context.Background()
	k := buildKit(t, t.TempDir(), kitOptions{})
	d := openKit(t, k.Img)

	u, _ := unlockKit(t, d, true)
	if _, err := u.OpenKeptRepository(ctx, u.RepoStorage()); err == nil {
		t.Fatal("a kept key before any was kept")
	}
	// Repository keeps the key of the repository it makes (or opens with the password)
	r, err := u.Repository(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.KeepRepositoryKey(r); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}

	// early and writable: the kept key opens the repository, and proves the key; nothing
	// is written to the kit before that proof
	before, err := os.ReadFile(k.Img)
	if err != nil {
		t.Fatal(err)
	}
	u, err = d.UnlockEarly([]byte("pass"), -1, true)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := u.OpenKeptRepository(ctx, u.RepoStorage())
	if err != nil {
		t.Fatal(err)
	}
	if mid, err := os.ReadFile(k.Img); err != nil || !bytes.Equal(mid, before) {
		t.Fatalf("the kit changed before the key was proven (%v)", err)
	}
	if kr.Config() != r.Config() || kr.KeyName() != r.KeyName() {
		t.Fatalf("the kept key opened another repository: %+v, key %s", kr.Config(), kr.KeyName())
	}
	if err := u.Accept(); err != nil || u.Slot != 0 || u.Key == nil {
		t.Fatalf("Accept: %v, slot %d", err, u.Slot)
	}
	right, err := d.Unlock([]byte("pass"), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(right.Key.Bytes(), u.Key.Bytes()) {
		t.Fatal("Accept gave another volume key")
	}
	right.Close()
	// it writes, and another repository's key is not taken for this one's
	other, err := repo.Init(ctx, repo.NewFolder(t.TempDir()), []byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.KeepRepositoryKey(other); err != nil {
		t.Fatalf("write after Accept: %v", err)
	}
	if _, err := u.OpenKeptRepository(ctx, u.RepoStorage()); err == nil {
		t.Fatal("another repository's master key opened the kit's")
	}
	u.Close()

	// a read-only unlock keeps nothing
	u, err = d.Unlock([]byte("pass"), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.KeepRepositoryKey(r); err != nil {
		t.Fatal(err)
	}
	if _, err := u.OpenKeptRepository(ctx, u.RepoStorage()); err == nil {
		t.Fatal("a read-only kit kept a key")
	}
	b := []byte("x")
	if err := u.FS.WriteFile("y", bytes.NewReader(b), 1, time.Now()); err == nil {
		t.Fatal("a read-only kit wrote")
	}
	u.Close()
}
