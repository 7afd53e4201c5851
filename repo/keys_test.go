package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// resticWith runs restic on dir with password (a file, as restic's --password-file).
func resticWith(t *testing.T, dir, password string, args ...string) (string, error) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("restic", append([]string{"-r", dir, "--no-cache", "--password-file", pw}, args...)...)
	cmd.Env = append(os.Environ(), "RESTIC_CACHE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	rk := "cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv"
	name, added, err := r.AddKey(ctx, []byte(rk))
	if err != nil || !added {
		t.Fatal(err)
	}
	// twice: the same key, nothing added
	if n2, added, err := r.AddKey(ctx, []byte(rk)); err != nil || added || n2 != name {
		t.Fatalf("second AddKey: %s %v %v", n2, added, err)
	}
	// restic opens the repository with the new key
	if out, err := resticWith(t, dir, rk, "key", "list"); err != nil || !strings.Contains(out, name[:8]) {
		t.Fatalf("restic key list: %v\n%s", err, out)
	}
	if n, err := r.KeyFor(ctx, []byte(rk)); err != nil || n != name {
		t.Fatalf("KeyFor: %s %v", n, err)
	}
	if _, err := r.KeyFor(ctx, []byte("nope")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("KeyFor a wrong password: %v", err)
	}
	// the key in use is never removed
	if err := r.RemoveKey(ctx, r.KeyName()); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("RemoveKey of the key in use: %v", err)
	}
	// a rotated recovery key: the new one opens, the old one no longer does
	rk2 := "vutrnlkj-ihgfedcb-vutrnlkj-ihgfedcb-vutrnlkj-ihgfedcb-vutrnlkj-ihgfedcb"
	n2, removed, err := r.ReplaceKey(ctx, []byte(rk), []byte(rk2))
	if err != nil || len(removed) != 1 || removed[0] != name {
		t.Fatalf("ReplaceKey: %v %v", removed, err)
	}
	if _, err := resticWith(t, dir, rk2, "cat", "config"); err != nil {
		t.Fatalf("restic with the new key: %v", err)
	}
	if out, err := resticWith(t, dir, rk, "cat", "config"); err == nil {
		t.Fatalf("restic still opens with the old key:\n%s", out)
	}
	if _, err := Open(ctx, NewFolder(dir), []byte(rk2)); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.KeyFor(ctx, []byte(rk2)); n != n2 {
		t.Fatalf("KeyFor the new key: %s, want %s", n, n2)
	}
	// a key restic adds is found too
	other := "a passphrase of the person's"
	pf := filepath.Join(t.TempDir(), "new")
	os.WriteFile(pf, []byte(other+"\n"), 0o600)
	if out, err := resticWith(t, dir, testPassword, "key", "add", "--new-password-file", pf); err != nil {
		t.Fatalf("restic key add: %v\n%s", err, out)
	}
	if _, err := r.KeyFor(ctx, []byte(other)); err != nil {
		t.Fatalf("KeyFor a key restic added: %v", err)
	}
}

// OpenWithKey opens a repository with its master key alone (no key file's scrypt), the
// same config and key; another repository's key, damaged bytes or a key file that is gone
// are ErrMasterKeyMismatch.
func TestOpenWithKey(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	m, err := r.MasterKey()
	if err != nil {
		t.Fatal(err)
	}
	o, err := OpenWithKey(ctx, NewFolder(dir), m, r.KeyName())
	if err != nil {
		t.Fatal(err)
	}
	if !sameKey(o.key, r.key) || o.Config() != r.Config() || o.KeyName() != r.KeyName() {
		t.Fatalf("OpenWithKey gave another repository: %+v against %+v", o.Config(), r.Config())
	}
	other, _ := initTestRepo(t)
	om, err := other.MasterKey()
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(strings.Replace(string(m), `"encrypt":"`, `"encrypt":"A`, 1))
	for name, c := range map[string]struct {
		key     []byte
		keyName string
	}{
		"another repository's key": {om, r.KeyName()},
		"damaged key":              {bad, r.KeyName()},
		"not JSON":                 {[]byte("{"), r.KeyName()},
		"no such key file":         {m, strings.Repeat("0", 64)},
	} {
		if _, err := OpenWithKey(ctx, NewFolder(dir), c.key, c.keyName); !errors.Is(err, ErrMasterKeyMismatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := OpenWithKey(ctx, NewFolder(t.TempDir()), m, r.KeyName()); !errors.Is(err, ErrNoRepository) {
		t.Errorf("no repository: %v", err)
	}
}

// A config that decrypts but says something travelkit cannot read (a version restic has
// not made, no irreducible chunker polynomial) is refused by Open and by OpenWithKey alike.
func TestOpenRefusesUnknownConfig(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]string{
		"version 3":     `{"version":3,"id":"x","chunker_polynomial":"3da3358b4dc173"}`,
		"version 0":     `{"version":0,"id":"x","chunker_polynomial":"3da3358b4dc173"}`,
		"no polynomial": `{"version":2,"id":"x","chunker_polynomial":"0"}`,
		"reducible":     `{"version":2,"id":"x","chunker_polynomial":"4"}`,
		"not a config":  `[1,2]`,
	} {
		r, dir := initTestRepo(t)
		m, err := r.MasterKey()
		if err != nil {
			t.Fatal(err)
		}
		st := NewFolder(dir)
		if err := st.Remove(ctx, Handle{Type: ConfigFile}); err != nil {
			t.Fatal(err)
		}
		if err := st.Save(ctx, Handle{Type: ConfigFile}, r.key.Seal(nil, []byte(cfg))); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, st, []byte(testPassword)); err == nil {
			t.Errorf("%s: Open took it", name)
		}
		if _, err := OpenWithKey(ctx, st, m, r.KeyName()); err == nil {
			t.Errorf("%s: OpenWithKey took it", name)
		}
	}
}
