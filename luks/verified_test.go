package luks

import (
	"bytes"
	"errors"
	"testing"
)

// A volume key a keyslot gave is not verified a second time when the volume is
// opened, but one changed since (through Bytes) or wiped is refused.
func TestUnlockedKeyVerifiedOnce(t *testing.T) {
	_, c, vk := format(t, FormatOptions{})
	got, slot, err := c.Unlock([]byte("correct horse"))
	if err != nil || slot != 0 || !bytes.Equal(got.Bytes(), vk.Bytes()) {
		t.Fatalf("unlock: %d %v", slot, err)
	}
	if !got.verifiedBy(c.meta().keyslotDigest("0")) {
		t.Fatal("the unlocked key is not marked verified")
	}
	v, err := c.OpenVolume(got)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	got.Bytes()[3] ^= 1
	if err := c.CheckVolumeKey(got); !errors.Is(err, ErrWrongVolumeKey) {
		t.Fatalf("a key changed after unlocking: %v", err)
	}
	if _, err := c.OpenVolume(got); !errors.Is(err, ErrWrongVolumeKey) {
		t.Fatalf("opened with a key changed after unlocking: %v", err)
	}
	got.Bytes()[3] ^= 1
	if err := c.CheckVolumeKey(got); err != nil {
		t.Fatal(err)
	}
	got.Wipe()
	if err := c.CheckVolumeKey(got); !errors.Is(err, ErrWrongVolumeKey) {
		t.Fatalf("a wiped key: %v", err)
	}
	// a copy made with NewVolumeKey is verified in full
	if NewVolumeKey(vk.Bytes()).verifiedBy(c.meta().keyslotDigest("0")) {
		t.Fatal("a new key counts as verified")
	}
}
