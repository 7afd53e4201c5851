package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/drive"
	"travelkit/internal/scrypt"
	"travelkit/repo"
)

// A kit's kept repository key (drive.RepoMasterKey): the build keeps it; a wrong
// passphrase is refused as before (ExitWrongKey) and changes nothing on the kit, before
// or after its first backup; a read-only command with the kept key writes nothing; a kept
// key that does not open the kit's repository (one of a repository made anew) is not used, and the next
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
	// a wrong passphrase before the first backup
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

	// after it: a wrong passphrase, then a read-only command, change nothing
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

// The build makes the kit's repository and keeps its master key inside the encrypted
// volume, so the kit's first command derives no key with scrypt (counted in this
// process: internal/scrypt.Derivations); restic 0.14 reads the repository that backup
// wrote. The kept key is nowhere else: not in the image's bytes in the clear (the tools
// partition included) though it is in the volume's plaintext, not in the build's output,
// not in its temporary folder. A passphrase change keeps it (the old passphrase opens
// nothing, the new one opens the repository without scrypt). A kit made before (no
// repository, no kept key) gets both at its first backup, which pays one derivation, and
// its next command none.
func TestKitFirstCommandNoScrypt(t *testing.T) {
	bin := buildVersioned(t, "v1.0.0")
	dir := t.TempDir()
	k := writeTestKit(t, dir, "first-cmd")
	pass, home := k.Pass, k.Src
	newPass := filepath.Join(dir, "new-pass")
	if err := os.WriteFile(newPass, []byte("another passphrase"), 0o600); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "kit.img")
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o700)
	out, err := tk(bin, []string{"TMPDIR=" + tmp}, k.buildArgs(img, "200MiB")...)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	// the first command: no scrypt
	derived := func(args ...string) int64 {
		t.Helper()
		before := scrypt.Derivations()
		if code := run(args); code != 0 {
			t.Fatalf("%s: exit %d", args[0], code)
		}
		return scrypt.Derivations() - before
	}
	if n := derived("backup", "--target", img, "--passphrase-file", pass, home); n != 0 {
		t.Fatalf("the first backup after the build derived %d keys with scrypt, want 0", n)
	}
	snaps := resticCheck(t, bin, img, pass)
	if !strings.Contains(snaps, filepath.ToSlash(home)) {
		t.Fatalf("restic lists no snapshot of %s: %s", home, snaps)
	}

	// the kept key: in the volume's plaintext, nowhere else
	secrets := keptKeyMaterial(t, img, pass)
	plain, err := os.ReadFile(plainVolume(t, bin, img, pass))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plain, secrets[0]) {
		t.Fatal("the kept key's text is not in the volume's plaintext: the search below finds nothing")
	}
	for _, s := range secrets {
		if bytes.Contains(raw, s) {
			t.Fatalf("the kit image holds the kept key's material in the clear (%d bytes)", len(s))
		}
		if bytes.Contains([]byte(out), s) {
			t.Fatal("the build's output holds the kept key's material")
		}
	}
	filepath.WalkDir(tmp, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s holds the kept key's material", p)
			}
		}
		return nil
	})

	// a passphrase change: the old passphrase opens nothing, the new one the repository
	// with the kept key
	if code := run([]string{"keys", "passphrase", "--target", img, "--passphrase-file", pass, "--new-passphrase-file", newPass, "--allow-weak-passphrase"}); code != 0 {
		t.Fatalf("keys passphrase: exit %d", code)
	}
	if code := run([]string{"snapshots", "--target", img, "--passphrase-file", pass}); code != ExitWrongKey {
		t.Fatalf("snapshots with the old passphrase: exit %d, want %d", code, ExitWrongKey)
	}
	if n := derived("backup", "--target", img, "--passphrase-file", newPass, home); n != 0 {
		t.Fatalf("a backup after the passphrase change derived %d keys with scrypt, want 0", n)
	}
	if got := keptKeyMaterial(t, img, newPass); !bytes.Equal(got[0], secrets[0]) {
		t.Fatal("the passphrase change changed the kept key")
	}

	// a kit made before this version: its first backup makes the repository (one
	// derivation, the new key file's) and keeps its key; the next command derives none
	forgetKitRepository(t, img, newPass)
	if n := derived("backup", "--target", img, "--passphrase-file", newPass, home); n != 1 {
		t.Fatalf("the first backup of a kit without a repository derived %d keys with scrypt, want 1", n)
	}
	if n := derived("snapshots", "--target", img, "--passphrase-file", newPass); n != 0 {
		t.Fatalf("the command after it derived %d keys with scrypt, want 0", n)
	}
	resticCheck(t, bin, img, newPass)
}

// keptKeyMaterial returns what must never leave the kit's volume in the clear: the kept
// file's base64 encryption key (first), then the raw encryption and MAC keys.
func keptKeyMaterial(t *testing.T, img, pass string) [][]byte {
	t.Helper()
	u, done := unlockImage(t, img, pass, false)
	defer done()
	b, err := u.ReadSmallFile(drive.RepoMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Master struct {
			Encrypt string `json:"encrypt"`
			MAC     struct {
				K string `json:"k"`
				R string `json:"r"`
			} `json:"mac"`
		} `json:"master"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	out := [][]byte{[]byte(k.Master.Encrypt)}
	for _, s := range []string{k.Master.Encrypt, k.Master.MAC.K, k.Master.MAC.R} {
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(d) < 16 {
			t.Fatalf("kept key %q: %v", s, err)
		}
		out = append(out, d)
	}
	return out
}

// forgetKitRepository makes the kit one of a version whose build made no repository:
// no file in repo/ (its folders stay), no kept master key.
func forgetKitRepository(t *testing.T, img, pass string) {
	t.Helper()
	u, done := unlockImage(t, img, pass, true)
	defer done()
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

// unlockImage unlocks the kit image with the passphrase in the file; done closes it.
func unlockImage(t *testing.T, img, pass string, write bool) (*drive.Unlocked, func()) {
	t.Helper()
	d, closeKit := openKitImage(t, img, write)
	p, _ := os.ReadFile(pass)
	u, err := d.Unlock(p, -1, write)
	if err != nil {
		closeKit()
		t.Fatal(err)
	}
	return u, func() {
		if err := u.Close(); err != nil {
			t.Error(err)
		}
		closeKit()
	}
}

// The commands besides backup that open a kit's repository, remote add, copy and keys
// rotate-recovery, open it with the master key kept in the volume: they derive with
// scrypt (counted in this process) only for the key files they add, once each, and to
// find a key file recorded for the secret, none to open. A secret is not tried on the
// kit's own password's key file, nor on one this command just made for another secret,
// and a new recovery key (random) on none. A kit whose kept key is missing (made before
// the build kept it) opens with the password at its first copy and keeps the key there:
// the next copy derives none. The off-site copy opens with the recovery keys, old before
// the rotation's copy, new after.
func TestKitCommandsUseKeptKey(t *testing.T) {
	dir := t.TempDir()
	k := writeTestKit(t, dir, "kept-key-commands")
	img := filepath.Join(dir, "kit.img")
	rk, rk2 := filepath.Join(dir, "rk"), filepath.Join(dir, "rk2")
	offsite := filepath.Join(dir, "offsite")
	k.build(t, img, "200MiB", "--recovery-key-file", rk)
	derived := func(args ...string) int64 {
		t.Helper()
		before := scrypt.Derivations()
		if code := run(args); code != 0 {
			t.Fatalf("%s: exit %d", strings.Join(args[:2], " "), code)
		}
		return scrypt.Derivations() - before
	}
	if n := derived("backup", "--target", img, "--passphrase-file", k.Pass, k.Src); n != 0 {
		t.Fatalf("backup derived %d keys, want 0", n)
	}
	// remote add: the recovery key's own key file only (was 3: the recovery key tried on
	// the kit's key file, twice, before its own was made)
	if n := derived("remote", "add", "--target", img, "--recovery-key-file", rk, "office", offsite); n != 1 {
		t.Fatalf("remote add derived %d keys with scrypt, want 1 (the recovery key's new key file)", n)
	}
	// a second remote with a passphrase of the person's: the recovery key's recorded key
	// file opens (1), the passphrase's new key file (1)
	pp := filepath.Join(dir, "own-pass")
	if err := os.WriteFile(pp, []byte("a passphrase of the person's own\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := derived("remote", "add", "--target", img, "--recovery-key-file", rk, "--password-file", pp, "home", filepath.Join(dir, "offsite2")); n != 2 {
		t.Fatalf("the second remote add derived %d keys with scrypt, want 2 (the recorded key found, the passphrase's new key file)", n)
	}
	if n := derived("copy", "--target", img, "--passphrase-file", k.Pass); n != 0 {
		t.Fatalf("copy derived %d keys with scrypt, want 0", n)
	}
	opensWith(t, offsite, rk)
	// rotate-recovery: the new recovery key's own key file only, as it is random (was 7
	// with three key files: the new key tried on each, twice); the old one is found by
	// its recorded name, and removed from the kit
	if n := derived("keys", "rotate-recovery", "--target", img, "--passphrase-file", k.Pass, "--recovery-key-file", rk2, "--yes"); n != 1 {
		t.Fatalf("keys rotate-recovery derived %d keys with scrypt, want 1 (the new recovery key's key file)", n)
	}
	if n := derived("copy", "--target", img, "--passphrase-file", k.Pass); n != 0 {
		t.Fatalf("copy after the rotation derived %d keys with scrypt, want 0", n)
	}
	opensWith(t, offsite, rk2)

	// no kept key: the first copy opens with the password and keeps the key
	u, done := unlockImage(t, img, k.Pass, true)
	if err := u.FS.Remove(drive.RepoMasterKey); err != nil {
		t.Fatal(err)
	}
	done()
	if n := derived("copy", "--target", img, "--passphrase-file", k.Pass); n != 1 {
		t.Fatalf("copy of a kit without a kept key derived %d keys with scrypt, want 1", n)
	}
	if n := derived("copy", "--target", img, "--passphrase-file", k.Pass); n != 0 {
		t.Fatalf("the copy after it derived %d keys with scrypt, want 0", n)
	}
}

// opensWith checks that the recovery key in the file opens the repository in dir and
// that it holds a snapshot.
func opensWith(t *testing.T, dir, keyFile string) {
	t.Helper()
	pw, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), repo.NewFolder(dir), bytes.TrimSpace(pw))
	if err != nil {
		t.Fatalf("the off-site copy does not open with %s: %v", filepath.Base(keyFile), err)
	}
	snaps, err := r.Snapshots(context.Background())
	if err != nil || len(snaps) == 0 {
		t.Fatalf("the off-site copy's snapshots: %d %v", len(snaps), err)
	}
}
