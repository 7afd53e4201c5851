package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/internal/scrypt"
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
	name, added, err := r.AddKey(ctx, []byte(rk), KeyHints{})
	if err != nil || !added {
		t.Fatal(err)
	}
	// twice: the same key, nothing added
	if n2, added, err := r.AddKey(ctx, []byte(rk), KeyHints{}); err != nil || added || n2 != name {
		t.Fatalf("second AddKey: %s %v %v", n2, added, err)
	}
	// restic opens the repository with the new key
	if out, err := resticWith(t, dir, rk, "key", "list"); err != nil || !strings.Contains(out, name[:8]) {
		t.Fatalf("restic key list: %v\n%s", err, out)
	}
	if n, err := r.KeyFor(ctx, []byte(rk), KeyHints{}); err != nil || n != name {
		t.Fatalf("KeyFor: %s %v", n, err)
	}
	if _, err := r.KeyFor(ctx, []byte("nope"), KeyHints{}); !errors.Is(err, ErrWrongPassword) {
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
	if n, _ := r.KeyFor(ctx, []byte(rk2), KeyHints{}); n != n2 {
		t.Fatalf("KeyFor the new key: %s, want %s", n, n2)
	}
	// a key restic adds is found too
	other := "a passphrase of the person's"
	pf := filepath.Join(t.TempDir(), "new")
	os.WriteFile(pf, []byte(other+"\n"), 0o600)
	if out, err := resticWith(t, dir, testPassword, "key", "add", "--new-password-file", pf); err != nil {
		t.Fatalf("restic key add: %v\n%s", err, out)
	}
	if _, err := r.KeyFor(ctx, []byte(other), KeyHints{}); err != nil {
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

// KeyHints spare key derivations, counted in this process (internal/scrypt.Derivations),
// without changing an answer: a key file whose password is known and differs is not
// tried, the recorded one is tried first, a fresh password is tried on none; each new key
// file still has a salt of its own and DefaultKDF's parameters, and opens with its password.
func TestKeyHintsSpareDerivations(t *testing.T) {
	ctx := context.Background()
	r, dir := initTestRepo(t)
	own := KnownKey{Name: r.KeyName(), Password: []byte(testPassword)}
	derived := func(f func()) int64 {
		t.Helper()
		before := scrypt.Derivations()
		f()
		return scrypt.Derivations() - before
	}
	add := func(pw string, h KeyHints, wantAdded bool) string {
		t.Helper()
		name, added, err := r.AddKey(ctx, []byte(pw), h)
		if err != nil || added != wantAdded {
			t.Fatalf("AddKey(%q): added %v, err %v; want added %v", pw, added, err, wantAdded)
		}
		return name
	}
	rk := "cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv"
	var rkName, ppName, freshName string
	// the recovery key: the kit's own key file is known not to be its, so only the new
	// key file is derived (without the hint: 3, the own key tried twice, then the new)
	if n := derived(func() { rkName = add(rk, KeyHints{Known: []KnownKey{own}}, true) }); n != 1 {
		t.Fatalf("adding a key beside a known one derived %d keys, want 1", n)
	}
	// again, with its key file recorded: found by one derivation, nothing added
	if n := derived(func() {
		if got := add(rk, KeyHints{First: rkName, Known: []KnownKey{own}}, false); got != rkName {
			t.Fatalf("the second AddKey named %s, want %s", got, rkName)
		}
	}); n != 1 {
		t.Fatalf("finding the recorded key derived %d keys, want 1", n)
	}
	// a passphrase beside both known key files: only its own
	known := []KnownKey{own, {Name: rkName, Password: []byte(rk)}}
	if n := derived(func() { ppName = add("a passphrase of the person's", KeyHints{Known: known}, true) }); n != 1 {
		t.Fatalf("adding a passphrase beside two known keys derived %d keys, want 1", n)
	}
	// a fresh random key: no key file is tried
	fresh := "vutrnlkj-ihgfedcb-vutrnlkj-ihgfedcb-vutrnlkj-ihgfedcb-vutrnlkj-ihgfedcb"
	if n := derived(func() { freshName = add(fresh, KeyHints{Fresh: true}, true) }); n != 1 {
		t.Fatalf("adding a fresh key derived %d keys, want 1", n)
	}
	// KeyFor with the recorded name first: one derivation among four key files
	if n := derived(func() {
		if got, err := r.KeyFor(ctx, []byte(rk), KeyHints{First: rkName}); err != nil || got != rkName {
			t.Fatalf("KeyFor the recorded key: %s %v", got, err)
		}
	}); n != 1 {
		t.Fatalf("KeyFor the recorded key derived %d keys, want 1", n)
	}
	// a known key file is still tried with its own password, and found
	if got := add(testPassword, KeyHints{Known: []KnownKey{own}}, false); got != r.KeyName() {
		t.Fatalf("AddKey of the known password named %s, want %s", got, r.KeyName())
	}
	// without hints every answer is the same
	for pw, want := range map[string]string{rk: rkName, "a passphrase of the person's": ppName, fresh: freshName, testPassword: r.KeyName()} {
		if got, err := r.KeyFor(ctx, []byte(pw), KeyHints{}); err != nil || got != want {
			t.Fatalf("KeyFor(%q) without hints: %s %v, want %s", pw, got, err, want)
		}
	}
	// each key file: a salt of its own, the stored parameters, opens with its password
	salts := map[string]bool{}
	for pw, name := range map[string]string{rk: rkName, "a passphrase of the person's": ppName, fresh: freshName} {
		b, err := os.ReadFile(filepath.Join(dir, "keys", name))
		if err != nil {
			t.Fatal(err)
		}
		kf, err := parseKeyFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if kf.N != DefaultKDF.N || kf.R != DefaultKDF.R || kf.P != DefaultKDF.P || len(kf.Salt) != 64 {
			t.Fatalf("key file %s: N=%d r=%d p=%d salt %d bytes, want %+v and 64", name[:8], kf.N, kf.R, kf.P, len(kf.Salt), DefaultKDF)
		}
		if salts[string(kf.Salt)] {
			t.Fatalf("key file %s repeats a salt", name[:8])
		}
		salts[string(kf.Salt)] = true
		if k, err := kf.open([]byte(pw)); err != nil || !sameKey(k, r.key) {
			t.Fatalf("key file %s does not open with its password: %v", name[:8], err)
		}
	}
}
