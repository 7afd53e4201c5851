package repo

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"travelkit/internal/scrypt"
)

// TestKeyOpensDespiteBrokenFastDerivation: should the fast scrypt ever derive a wrong key,
// opening a key file still succeeds (the reference derivation is tried before a password
// is called wrong), and a wrong password is still wrong.
func TestKeyOpensDespiteBrokenFastDerivation(t *testing.T) {
	master := NewRandomKey()
	kb, err := newKeyFile(master, []byte("right"), KDFParams{N: 1 << 10, R: 8, P: 1})
	if err != nil {
		t.Fatal(err)
	}
	saved := deriveFast
	t.Cleanup(func() { deriveFast = saved })
	// one wrong bit in the encryption half (the MAC still matches, the JSON does not),
	// in the MAC key K, in the MAC key R
	for _, at := range []int{17, 40, 60} {
		calls := 0
		deriveFast = func(password, salt []byte, N, r, p, keyLen int) ([]byte, error) {
			calls++
			k, err := scrypt.KeyReference(password, salt, N, r, p, keyLen)
			if err == nil {
				k[at] ^= 0x40
			}
			return k, err
		}
		k, err := openKeyFile(kb, []byte("right"))
		if err != nil {
			t.Fatalf("byte %d: a broken fast derivation locked the key out: %v", at, err)
		}
		if k.Encrypt != master.Encrypt || k.MACK != master.MACK || k.MACR != master.MACR {
			t.Fatalf("byte %d: opened a different master key", at)
		}
		if _, err := openKeyFile(kb, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("byte %d: a wrong password: %v", at, err)
		}
		if calls != 2 {
			t.Fatalf("byte %d: the fast derivation ran %d times, want 2 (it must be tried first)", at, calls)
		}
	}
}

// TestResticKeyOpensWithFastDerivation: a key file restic 0.14 wrote (its own calibrated
// N, r, p) opens with the fast derivation alone, and our key files too.
func TestResticKeyOpensWithFastDerivation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "restic")
	if out, err := resticWith(t, dir, "stock password", "init"); err != nil {
		t.Fatalf("restic init: %v\n%s", err, out)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "keys"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("restic's keys/: %v %v", ents, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "keys", ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	kf, err := parseKeyFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kf.unseal([]byte("stock password"), scrypt.Key); err != nil {
		t.Fatalf("restic's key (N=%d r=%d p=%d) with the fast derivation: %v", kf.N, kf.R, kf.P, err)
	}
	ours, err := newKeyFile(NewRandomKey(), []byte("ours"), KDFParams{N: 1 << 15, R: 8, P: 1})
	if err != nil {
		t.Fatal(err)
	}
	if kf, err = parseKeyFile(ours); err != nil {
		t.Fatal(err)
	}
	if _, err := kf.unseal([]byte("ours"), scrypt.Key); err != nil {
		t.Fatalf("our key with the fast derivation: %v", err)
	}
}
