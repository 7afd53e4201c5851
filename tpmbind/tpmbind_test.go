package tpmbind

import (
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"travelkit/luks"
	"travelkit/tpm"
)

// memDev is a LUKS2 container in memory.
type memDev []byte

func (m memDev) ReadAt(p []byte, off int64) (int, error)  { return copy(p, m[off:]), nil }
func (m memDev) WriteAt(p []byte, off int64) (int, error) { return copy(m[off:], p), nil }

// startSWTPM starts Debian's swtpm on a unix socket for one test and opens it.
func startSWTPM(t *testing.T) *tpm.TPM {
	t.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		t.Fatal("swtpm not found: install the Debian package swtpm (scripts/install-test-deps.sh)")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tpm.sock")
	cmd := exec.Command(bin, "socket", "--tpm2", "--flags", "not-need-init,startup-clear",
		"--server", "type=unixio,path="+sock, "--ctrl", "type=unixio,path="+sock+".ctrl", "--tpmstate", "dir="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("swtpm did not start")
		}
	}
	tp, err := tpm.Open("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

// The whole life of a binding against swtpm: enrol (keyslot, token, PCR record), unseal,
// a PCR change that is refused before the PIN is asked, reseal, drop.
func TestBindingLifecycle(t *testing.T) {
	tp := startSWTPM(t)
	dev := make(memDev, 20<<20)
	c, vk, err := luks.Format(dev, int64(len(dev)), []byte("passphrase"), luks.FormatOptions{
		PBKDF: luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer vk.Wipe()
	if bs := List(c); len(bs) != 0 {
		t.Fatalf("fresh volume has %d bindings", len(bs))
	}
	if _, _, err := Unseal(tp, nil, nil); !errors.Is(err, ErrNotBound) {
		t.Fatalf("Unseal without bindings: %v, want ErrNotBound", err)
	}
	pin := []byte("1234")
	slot, sealed, err := Enrol(c, vk, tp, tpm.SealOptions{PCRs: []int{7}, PIN: append([]byte(nil), pin...)})
	if err != nil {
		t.Fatal(err)
	}
	if slot != 1 {
		t.Fatalf("TPM keyslot %d, want 1 (the first free one)", slot)
	}
	for _, b := range sealed.Secret {
		if b != 0 {
			t.Fatal("the sealed secret is still in memory after Enrol")
		}
	}
	bs := List(c)
	if len(bs) != 1 || bs[0].RecordID < 0 || bs[0].Token.Keyslots[0] != slot || !bs[0].Token.PIN {
		t.Fatalf("bindings after Enrol: %+v", bs)
	}
	// The keyslot uses the minimal PBKDF2 (the secret has 256 bits of entropy).
	for _, k := range c.Keyslots() {
		if k.ID == slot && (k.PBKDF.Type != "pbkdf2" || k.PBKDF.Iterations != 1000) {
			t.Fatalf("TPM keyslot KDF %+v", k.PBKDF)
		}
	}
	asked := 0
	pinFunc := func() ([]byte, error) { asked++; return append([]byte(nil), pin...), nil }
	pass, got, err := Unseal(tp, bs, pinFunc)
	if err != nil || got != slot || asked != 1 {
		t.Fatalf("Unseal: slot %d, PIN asked %d times, %v", got, asked, err)
	}
	k, err := c.UnlockSlot(pass, slot)
	if err != nil {
		t.Fatalf("the unsealed passphrase does not open keyslot %d: %v", slot, err)
	}
	k.Wipe()

	// A firmware update: the policy fails before the PIN is asked, and names PCR 7.
	if err := tp.ExtendPCR(7, []byte("firmware update")); err != nil {
		t.Fatal(err)
	}
	asked = 0
	_, _, err = Unseal(tp, List(c), pinFunc)
	var mm *tpm.PCRMismatchError
	if !errors.As(err, &mm) || asked != 0 {
		t.Fatalf("after a PCR change: %v (PIN asked %d times), want a PCR mismatch and no PIN", err, asked)
	}

	// Reseal to the new state: a new keyslot and token, the old ones gone.
	newSlot, _, err := Reseal(c, vk, tp, List(c)[0], pin)
	if err != nil {
		t.Fatal(err)
	}
	bs = List(c)
	if len(bs) != 1 || bs[0].Token.Keyslots[0] != newSlot || newSlot == slot {
		t.Fatalf("after Reseal: new slot %d, bindings %+v", newSlot, bs)
	}
	if _, err := c.UnlockSlot(pass, slot); err == nil {
		t.Fatalf("the old TPM keyslot %d still opens after Reseal", slot)
	}
	pass2, got, err := Unseal(tp, bs, pinFunc)
	if err != nil || got != newSlot {
		t.Fatalf("Unseal after Reseal: slot %d, %v", got, err)
	}
	clear(pass2)

	if err := Drop(c, bs[0]); err != nil {
		t.Fatal(err)
	}
	if len(List(c)) != 0 || len(c.Tokens()) != 0 || len(c.Keyslots()) != 1 {
		t.Fatalf("after Drop: %d bindings, %d tokens, %d keyslots", len(List(c)), len(c.Tokens()), len(c.Keyslots()))
	}
}
