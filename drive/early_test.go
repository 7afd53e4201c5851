package drive_test

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"
	"os"
	"testing"
	"time"

	"travelkit/drive"
	"travelkit/image/ext4"
	"travelkit/luks"
)

// UnlockEarly + Verify opens the kit as Unlock does: with the passphrase (the first
// keyslot tried) the volume opened early is kept; with the recovery key (keyslot 1, tried
// second) Verify opens it again with the right key; a wrong secret is refused with
// Unlock's error and nothing on the drive changes.
func TestUnlockEarly(t *testing.T) {
	k := buildKit(t, t.TempDir(), kitOptions{RecoveryKey: true})
	img := k.Img
	d := openKit(t, img)
	want, pw := unlockKit(t, d, false)
	want.Close()
	before := imageSum(t, img)

	// the passphrase opens keyslot 0, the first tried: the early volume is kept
	u, err := d.UnlockEarly([]byte("pass"), -1, true)
	if err != nil {
		t.Fatal(err)
	}
	if u.Key != nil {
		t.Fatal("a key before Verify")
	}
	reopened, err := u.Verify()
	if err != nil || reopened || u.Slot != 0 || u.Key == nil {
		t.Fatalf("Verify: %v %v, slot %d", reopened, err, u.Slot)
	}
	if again, err := u.Verify(); again || err != nil {
		t.Fatalf("second Verify: %v %v", again, err)
	}
	checkOpen(t, u, pw, "early-0")

	// the recovery key: keyslot 0's key is garbage, which ext4 refuses, so UnlockEarly
	// itself goes on to keyslot 1
	u, err = d.UnlockEarly([]byte(k.RecoveryKey), -1, true)
	if err != nil || u.Slot != 1 || u.Key == nil {
		t.Fatalf("recovery key: %v", err)
	}
	if reopened, err := u.Verify(); reopened || err != nil {
		t.Fatalf("Verify of a finished unlock: %v %v", reopened, err)
	}
	checkOpen(t, u, pw, "early-1")

	// the recovery key again, and keyslot 0's garbage taken for a file system (the right
	// key's, as if the garbage parsed): nothing is written with it, and Verify opens the
	// volume again with keyslot 1's key
	right, err := d.Unlock([]byte("pass"), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.Container()
	rv, err := c.OpenVolume(luks.NewVolumeKey(right.Key.Bytes()))
	right.Close()
	if err != nil {
		t.Fatal(err)
	}
	var candidate *luks.Volume
	restore := drive.SetOpenEarlyFS(func(v *luks.Volume, o ext4.Options) (*ext4.FS, error) {
		candidate = v
		return ext4.Open(rv, ext4.Options{})
	})
	u, err = d.UnlockEarly([]byte(k.RecoveryKey), -1, true)
	restore()
	if err != nil || u.Key != nil {
		t.Fatalf("recovery key, garbage opened: %v", err)
	}
	mid := imageSum(t, img)
	if _, err := candidate.WriteAt(make([]byte, 4096), 0); err == nil {
		t.Fatal("the wrong key's volume wrote")
	}
	if imageSum(t, img) != mid {
		t.Fatal("the wrong key's volume changed the image")
	}
	if reopened, err := u.Verify(); !reopened || err != nil || u.Slot != 1 || u.Key == nil {
		t.Fatalf("Verify after garbage: %v %v, slot %d", reopened, err, u.Slot)
	}
	rv.Close()
	checkOpen(t, u, pw, "early-2")

	after := imageSum(t, img)
	if before == after {
		t.Fatal("the writes after Verify did not reach the image")
	}
	u, err = d.UnlockEarly([]byte("nope"), -1, true)
	if err == nil {
		// the wrong key's file system happened to open: Verify refuses it
		_, err = u.Verify()
		u.Close()
	}
	if !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if imageSum(t, img) != after {
		t.Fatal("a wrong passphrase changed the image")
	}
}

// imageSeed keys imageSum: its sums are compared within one test process only.
var imageSeed = maphash.MakeSeed()

// imageSum is a 64-bit hash of the kit image, read 1 MiB at a time (nothing here is
// hostile, and a change goes unseen with odds of 2^-64): the test compares the 300 MiB
// image five times, and whole copies of it (up to three alive at once) made the test
// binary's heap about 1.3 GB, collected while the key check ran beside it.
func imageSum(t *testing.T, img string) uint64 {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h maphash.Hash
	h.SetSeed(imageSeed)
	if _, err := io.CopyBuffer(&h, struct{ io.Reader }{f}, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	return h.Sum64()
}

// checkOpen reads the repository password and writes a file through u, then closes it.
func checkOpen(t *testing.T, u *drive.Unlocked, pw []byte, name string) {
	t.Helper()
	got, err := u.FS.ReadFile(drive.RepoPassword)
	if err != nil || !bytes.Equal(got, pw) {
		t.Fatalf("%s: repository password: %v", name, err)
	}
	b := []byte("written after Verify")
	if err := u.FS.WriteFile(name, bytes.NewReader(b), int64(len(b)), time.Now()); err != nil {
		t.Fatalf("%s: write after Verify: %v", name, err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
}
