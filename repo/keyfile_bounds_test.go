package repo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// keyFileWith is a key file with the given scrypt parameters (never derived).
func keyFileWith(t *testing.T, n, r, p int) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"kdf": "scrypt", "N": n, "r": r, "p": p,
		"salt": make([]byte, 64), "data": make([]byte, Overhead+64)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// restic calibrates its key parameters by timing (500 ms, 60 MiB): N*r*128 stays at or
// below 32 MiB while p is the target time over one timed derivation, so a fast machine,
// or a timing taken under load after N was lowered, writes p well above 16. Such keys
// open; keys asking for absurd memory or time are still refused.
func TestKeyFileResticCalibratedParams(t *testing.T) {
	for _, c := range [][3]int{
		{32768, 8, 1}, {32768, 8, 3}, {32768, 8, 17}, {32768, 8, 40}, {32768, 8, 250},
		{16384, 8, 60}, {8192, 8, 120}, {4096, 8, 500}, {1024, 8, 2000},
	} {
		if _, err := parseKeyFile(keyFileWith(t, c[0], c[1], c[2])); err != nil {
			t.Errorf("restic-shaped N=%d r=%d p=%d refused: %v", c[0], c[1], c[2], err)
		}
	}
	for _, c := range [][3]int{
		{1 << 20, 8, 1},       // 1 GiB of memory
		{1 << 18, 8, 33},      // 8.25 GiB of work
		{32768, 8, 1 << 12},   // 128 GiB of work
		{2, 8, 1 << 19},       // 512 MiB for scrypt's p blocks
		{2, 1, 1 << 30},       // r*p at scrypt's own limit
		{1 << 40, 1 << 30, 1}, // products that would overflow
		{32768, 8, 0}, {32768, 0, 1}, {1, 8, 1}, {3000, 8, 1}, {32768, 8, -1},
	} {
		if _, err := parseKeyFile(keyFileWith(t, c[0], c[1], c[2])); err == nil {
			t.Errorf("N=%d r=%d p=%d accepted", c[0], c[1], c[2])
		}
	}
}

// A repository whose only key has a calibrated p above 16 (cheap N here) opens, with
// travelkit and with restic.
func TestKeyFileLargeP(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	kb, err := newKeyFile(r.key, []byte(testPassword), KDFParams{N: 1024, R: 8, P: 40})
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys")
	old, _ := os.ReadDir(keys)
	for _, e := range old {
		os.Remove(filepath.Join(keys, e.Name()))
	}
	if err := r.st.Save(ctx, Handle{KeyFile, hashName(kb)}, kb); err != nil {
		t.Fatal(err)
	}
	openTestRepo(t, NewFolder(dir))
	if out, err := resticWith(t, dir, testPassword, "cat", "config"); err != nil {
		t.Fatalf("restic with the key: %v\n%s", err, out)
	}
}
