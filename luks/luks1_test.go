package luks

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/luks/internal/xts"
)

// TestLUKS1ReadOnly: a LUKS1 volume made by cryptsetup unlocks with travelkit (volume key
// identical to cryptsetup's), its payload reads back what cryptsetup's key encrypted, and
// every change is refused without touching the device.
func TestLUKS1ReadOnly(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "l1.luks")
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("luks1 pass"), 0o600)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 20<<20)
	for _, args := range [][]string{
		{"luksFormat", "--batch-mode", "--type", "luks1", "--key-file", pass, "--pbkdf-force-iterations", "1000", img},
		{"luksDump", "-q", "--dump-volume-key", "--volume-key-file", filepath.Join(dir, "vk"), "--key-file", pass, img},
	} {
		if out, err := exec.Command("cryptsetup", args...).CombinedOutput(); err != nil {
			t.Fatalf("cryptsetup %s: %v\n%s", args[0], err, out)
		}
	}
	vk, _ := os.ReadFile(filepath.Join(dir, "vk"))
	before, _ := os.ReadFile(img)

	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var l1 *LUKS1Error
	if _, err := Open(f, 20<<20); !errors.As(err, &l1) {
		t.Fatalf("Open: %v, want *LUKS1Error", err)
	}
	c, err := OpenLUKS1(f, 20<<20)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() != 1 || c.SectorSize() != 512 {
		t.Fatalf("version %d sector %d", c.Version(), c.SectorSize())
	}
	got, slot, err := c.Unlock([]byte("luks1 pass"))
	if err != nil || slot != 0 || !bytes.Equal(got.Bytes(), vk) {
		t.Fatalf("unlock: slot %d %v, key equal %v", slot, err, bytes.Equal(got.Bytes(), vk))
	}
	if _, _, err := c.Unlock([]byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatal(err)
	}
	// data encrypted with cryptsetup's key (payload sector k: tweak k)
	v, err := c.OpenVolume(got)
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 8192)
	rand.Read(plain)
	x, _ := xts.New(vk)
	enc := make([]byte, len(plain))
	x.EncryptSectors(enc, plain, 512, 0, 1)
	if _, err := f.WriteAt(enc, c.DataOffset()); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(plain))
	if _, err := v.ReadAt(back, 0); err != nil || !bytes.Equal(back, plain) {
		t.Fatalf("payload: %v", err)
	}
	copy(before[c.DataOffset():], enc)
	// changes are refused, and the header is untouched
	if _, err := c.AddKeyslot(got, []byte("x"), -1, cheap); err == nil || !strings.Contains(err.Error(), "LUKS1") {
		t.Fatalf("AddKeyslot on LUKS1: %v", err)
	}
	if err := c.RemoveKeyslot(0, true); err == nil {
		t.Fatal("RemoveKeyslot on LUKS1 accepted")
	}
	if err := c.Erase(); err == nil {
		t.Fatal("Erase on LUKS1 accepted")
	}
	after, _ := os.ReadFile(img)
	if !bytes.Equal(before, after) {
		t.Fatal("the LUKS1 device changed")
	}
}
