package kit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"
)

// These tests use the stock age CLI (Debian's age 1.1, package age) and ssh-keygen
// (package openssh-client) as the reference: an escrow file must open with `age -d -i`.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed by this test (scripts/install-test-deps.sh installs it): %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(needTool(t, name), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// ageDecrypt runs `age -d -i identity file` and checks that it prints key and a newline.
func ageDecrypt(t *testing.T, identity string, file []byte, key string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "colleague.age")
	if err := os.WriteFile(p, file, 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, "age", "-d", "-i", identity, p)
	if string(out) != key+"\n" {
		t.Fatalf("age -d printed %q, want the key and a newline", out)
	}
	if k, err := ParseRecoveryKey(string(out)); err != nil || k != key {
		t.Fatalf("recovered key does not parse: %v", err)
	}
}

func newKey(t *testing.T) string {
	t.Helper()
	k, err := GenerateRecoveryKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEscrowX25519AgeCLI(t *testing.T) {
	dir := t.TempDir()
	idFile := filepath.Join(dir, "key.txt")
	run(t, "age-keygen", "-o", idFile)
	pub := strings.TrimSpace(string(run(t, "age-keygen", "-y", idFile)))
	key := newKey(t)
	file, err := Escrow(key, pub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(file, []byte("-----BEGIN AGE ENCRYPTED FILE-----\n")) {
		t.Fatalf("not armored: %q", file[:40])
	}
	if bytes.Contains(file, []byte(key)) {
		t.Fatal("escrow file holds the key in clear")
	}
	ageDecrypt(t, idFile, file, key)

	// travelkit --identity reads the same identity file.
	data, _ := os.ReadFile(idFile)
	ids, err := ParseIdentities(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenEscrow(file, ids...)
	if err != nil || got != key {
		t.Fatalf("OpenEscrow = %q, %v", got, err)
	}
}

func TestEscrowSSHKeysAgeCLI(t *testing.T) {
	for _, typ := range []string{"ed25519", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			idFile := filepath.Join(dir, "id_"+typ)
			args := []string{"-q", "-t", typ, "-N", "", "-C", "colleague@example.org", "-f", idFile}
			if typ == "rsa" {
				args = append(args, "-b", "2048")
			}
			run(t, "ssh-keygen", args...)
			pub, err := os.ReadFile(idFile + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			key := newKey(t)
			file, err := Escrow(key, string(pub)) // with its trailing newline and comment
			if err != nil {
				t.Fatal(err)
			}
			ageDecrypt(t, idFile, file, key)

			data, _ := os.ReadFile(idFile)
			ids, err := ParseIdentities(data)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := OpenEscrow(file, ids...); err != nil || got != key {
				t.Fatalf("OpenEscrow = %q, %v", got, err)
			}
		})
	}
}

// The post-quantum hybrid recipients came with age 1.3; Debian's age 1.1 cannot read them,
// so the library is the reference here.
func TestEscrowPostQuantum(t *testing.T) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	pub := id.Recipient().String()
	if !strings.HasPrefix(pub, "age1pq1") {
		t.Fatalf("unexpected recipient %q", pub[:10])
	}
	r, err := ParseRecipient(pub)
	if err != nil || RecipientKind(r) != "age-mlkem768x25519" {
		t.Fatalf("ParseRecipient: %v, %v", RecipientKind(r), err)
	}
	key := newKey(t)
	file, err := Escrow(key, pub)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIdentities([]byte("# created: now\n# public key: " + pub + "\n" + id.String() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenEscrow(file, ids...); err != nil || got != key {
		t.Fatalf("OpenEscrow = %q, %v", got, err)
	}
	// And with the library's own decryptor, straight from the armored file.
	other, _ := age.GenerateX25519Identity()
	if _, err := OpenEscrow(file, other); !errors.Is(err, ErrIncorrectIdentity) {
		t.Fatalf("wrong identity: %v", err)
	}
}

func TestOpenEscrowWrongIdentity(t *testing.T) {
	a, _ := age.GenerateX25519Identity()
	b, _ := age.GenerateX25519Identity()
	file, err := Escrow(newKey(t), a.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEscrow(file, b); !errors.Is(err, ErrIncorrectIdentity) {
		t.Fatalf("got %v, want ErrIncorrectIdentity", err)
	}
	if _, err := OpenEscrow([]byte("not an age file"), a); err == nil {
		t.Fatal("garbage opened")
	}
	// A binary (unarmored) age file opens too.
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, a.Recipient())
	key := newKey(t)
	w.Write([]byte(key + "\n"))
	w.Close()
	if got, err := OpenEscrow(buf.Bytes(), a); err != nil || got != key {
		t.Fatalf("binary age file: %q, %v", got, err)
	}
}

func TestEscrowRejectsBadInput(t *testing.T) {
	a, _ := age.GenerateX25519Identity()
	if _, err := Escrow("not a key", a.Recipient().String()); err == nil {
		t.Error("bad recovery key accepted")
	}
	secret := a.String()
	for _, r := range []string{
		"", "age1xyz", "bob", secret,
		"age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t",
		"ssh-dss AAAAB3NzaC1kc3MAAACBAP",
		"-----BEGIN OPENSSH PRIVATE KEY-----",
	} {
		_, err := ParseRecipient(r)
		if err == nil {
			t.Errorf("ParseRecipient(%q) accepted", r)
			continue
		}
		if strings.Contains(err.Error(), secret[16:]) {
			t.Errorf("error echoes a private key: %v", err)
		}
	}
}

func TestParseIdentitiesErrors(t *testing.T) {
	// A passphrase-protected ssh key: a clear error that says what to do.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseIdentities(pem.EncodeToMemory(blk))
	if err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("protected key: %v", err)
	}
	// An unprotected one generated in Go works.
	blk, _ = ssh.MarshalPrivateKey(priv, "")
	if _, err := ParseIdentities(pem.EncodeToMemory(blk)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "AGE-SECRET-KEY-1XYZ", "hello"} {
		_, err := ParseIdentities([]byte(bad))
		if err == nil {
			t.Errorf("ParseIdentities(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "XYZ") {
			t.Errorf("error echoes key material: %v", err)
		}
	}
}

func TestValidEscrowName(t *testing.T) {
	for _, n := range []string{"colleague-a", "Bob", "helpline.org", "a", "x_1"} {
		if err := ValidEscrowName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", ".hidden", "-x", "a/b", `a\b`, "con", "COM1.txt", "nul", "x.", "a b", "é", strings.Repeat("a", 65), ".."} {
		if err := ValidEscrowName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
	if EscrowPath("bob") != "escrow/bob.age" {
		t.Error(EscrowPath("bob"))
	}
}

// TestOpenEscrowFromAgeCLI: an escrow file made by the stock age CLI (armored or binary)
// opens with travelkit, so a colleague can re-escrow a key with their own tools.
func TestOpenEscrowFromAgeCLI(t *testing.T) {
	dir := t.TempDir()
	idFile := filepath.Join(dir, "id.txt")
	run(t, "age-keygen", "-o", idFile)
	pub := strings.TrimSpace(string(run(t, "age-keygen", "-y", idFile)))
	key := newKey(t)
	plain := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(plain, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	idBytes, err := os.ReadFile(idFile)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIdentities(idBytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, armor := range []bool{true, false} {
		args := []string{"-r", pub}
		if armor {
			args = append(args, "-a")
		}
		file := run(t, "age", append(args, plain)...)
		got, err := OpenEscrow(file, ids...)
		if err != nil || got != key {
			t.Fatalf("armor %v: OpenEscrow = %q, %v", armor, got, err)
		}
	}
}
