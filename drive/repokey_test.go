package drive_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"travelkit/drive"
	"travelkit/repo"
)

// The build makes the kit's repository and keeps its master key in the volume; a kit
// without either (one made before) gets both from Repository. The next command opens the
// repository with the kept key (no scrypt) and Accept ends its unlock with keyslot 0's
// key, which then writes; a kept key that does not open the repository (another
// repository's) is refused, and a read-only kit writes none.
func TestKeptRepositoryKey(t *testing.T) {
	ctx := context.Background()
	k := buildKit(t, t.TempDir(), kitOptions{})
	d := openKit(t, k.Img)

	u, pw := unlockKit(t, d, true)
	built, err := u.OpenKeptRepository(ctx, u.RepoStorage())
	if err != nil {
		t.Fatalf("the build kept no usable key: %v", err)
	}
	withPass, err := repo.Open(ctx, u.RepoStorage(), pw)
	if err != nil {
		t.Fatal(err)
	}
	if built.Config() != withPass.Config() || built.KeyName() != withPass.KeyName() {
		t.Fatalf("the build's kept key opened %+v (key %s), the password %+v (key %s)", built.Config(), built.KeyName(), withPass.Config(), withPass.KeyName())
	}
	// a kit made before this version: no repository, no kept key
	forgetRepository(t, u)
	if _, err := u.OpenKeptRepository(ctx, u.RepoStorage()); err == nil {
		t.Fatal("a kept key after it was removed")
	}
	// Repository makes the repository and keeps its key
	r, err := u.Repository(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Config() == withPass.Config() {
		t.Fatal("Repository opened the removed repository")
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

// forgetRepository makes the unlocked kit one of a version whose build made no
// repository: no file in repo/ (its folders stay), no kept master key.
func forgetRepository(t *testing.T, u *drive.Unlocked) {
	t.Helper()
	var removeFiles func(dir string)
	removeFiles = func(dir string) {
		ents, err := u.FS.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if p := dir + "/" + e.Name; e.Mode.IsDir() {
				removeFiles(p)
			} else if err := u.FS.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	removeFiles(drive.RepoDir)
	if err := u.FS.Remove(drive.RepoMasterKey); err != nil {
		t.Fatal(err)
	}
}
