package kit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"travelkit/internal/rsscheck"
)

// The fuzz tests below feed hostile bytes to what a kit reads from its tools partition
// or from a colleague: escrow files (age, armored or binary), header backups, identity
// files, recipients and the header wraps kept in the volume. Each must return an error,
// never panic, and allocate in proportion to its input, not to a length it claims.

// fuzzIdentity is a fixed X25519 identity (a test key, made by age-keygen for these
// tests only), so that the corpus stays meaningful from one run to the next.
const fuzzIdentity = "AGE-SECRET-KEY-1KFCY4SK5VW790Y60EJC05S8SEW3FY6QUQJPY3AEML063LCHSE7ESLCS450"

// fuzzSSHSeed makes a fixed ed25519 ssh key.
var fuzzSSHSeed = bytes.Repeat([]byte{7}, ed25519.SeedSize)

func fuzzIdentities(tb testing.TB) (ids []age.Identity, recipients []string) {
	tb.Helper()
	x, err := age.ParseX25519Identity(fuzzIdentity)
	if err != nil {
		tb.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(fuzzSSHSeed)
	sid, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return []age.Identity{x, sid}, []string{x.Recipient().String(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))}
}

func FuzzOpenEscrowFile(f *testing.F) {
	ids, rs := fuzzIdentities(f)
	key, err := GenerateRecoveryKey()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range rs {
		b, err := Escrow(key, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	shares, err := EscrowFiles(key, 2, rs)
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range shares {
		f.Add(b)
	}
	bin, err := EncryptHeaderBackupTo([]byte(key+"\n"), rs[:1])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bin)
	f.Add([]byte("-----BEGIN AGE ENCRYPTED FILE-----\n-----END AGE ENCRYPTED FILE-----\n"))
	f.Add([]byte("age-encryption.org/v1\n-> X25519 AAAA\n\n--- AAAA\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		var c EscrowContent
		var err error
		rsscheck.AllocCap(t, 8<<20+16*uint64(len(file)), "opening an escrow file", func() {
			c, err = OpenEscrowFile(file, ids...)
		})
		if err != nil {
			return
		}
		if c.Key == "" && len(c.Share.Value) == 0 {
			t.Fatal("an escrow file opened to neither a key nor a share")
		}
		if c.Key != "" {
			if k, err := ParseRecoveryKey(c.Key); err != nil || k != c.Key {
				t.Fatalf("opened a key that does not parse as itself: %v", err)
			}
		}
	})
}

func FuzzOpenHeaderBackupFile(f *testing.F) {
	ids, rs := fuzzIdentities(f)
	key, err := GenerateRecoveryKey()
	if err != nil {
		f.Fatal(err)
	}
	backup := bytes.Repeat([]byte("LUKS\xba\xbe"), 100)
	b, err := EncryptHeaderBackupTo(backup, rs)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	wraps, err := NewHeaderWraps(key, 1)
	if err != nil {
		f.Fatal(err)
	}
	if b, err = EncryptHeaderBackupWithWrap(backup, wraps[0]); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	// the recovery key opens luks-header.age through a scrypt identity; a crafted file
	// may ask for any work factor: the identity's own bound must refuse a large one
	sid, err := age.NewScryptIdentity(key)
	if err != nil {
		f.Fatal(err)
	}
	sid.SetMaxWorkFactor(headerWrapLogN)
	ids = append(ids, sid)
	f.Fuzz(func(t *testing.T, file []byte) {
		rsscheck.AllocCap(t, 16<<20+16*uint64(len(file)), "opening a header backup", func() {
			OpenHeaderBackupFile(file, ids...)
		})
	})
}

func FuzzParseIdentities(f *testing.F) {
	f.Add([]byte("# created: 2026-12-01T03:29:53Z\n# public key: age1wzvtayy9ef79g20e3ngy7urwvcxjngcyvayjksfrzykq2u2nz9tqqxwpr0\n" + fuzzIdentity + "\n"))
	blk, err := ssh.MarshalPrivateKey(ed25519.NewKeyFromSeed(fuzzSSHSeed), "")
	if err != nil {
		f.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(blk)
	f.Add(pemKey)
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ids []age.Identity
		var err error
		rsscheck.AllocCap(t, 8<<20+64*uint64(len(data)), "parsing an identity file", func() {
			ids, err = ParseIdentities(data)
		})
		if err == nil && len(ids) == 0 {
			return // age accepts a file of comments only; callers check for none
		}
		if err != nil && bytes.Contains(data, []byte("AGE-SECRET-KEY-1")) {
			// errors never include key material
			for _, line := range strings.Split(string(data), "\n") {
				if l := strings.TrimSpace(line); len(l) > 20 && strings.HasPrefix(l, "AGE-SECRET-KEY-") && strings.Contains(err.Error(), l) {
					t.Fatalf("error quotes a secret key line: %v", err)
				}
			}
		}
	})
}

func FuzzParseRecipient(f *testing.F) {
	_, rs := fuzzIdentities(f)
	for _, r := range rs {
		f.Add(r)
	}
	f.Add("age1pq1")
	f.Add("age1yubikey1qwerty")
	f.Add("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")
	f.Add(fuzzIdentity)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecipient(s)
		if err != nil {
			if strings.HasPrefix(strings.TrimSpace(s), "AGE-SECRET-KEY-") && len(strings.TrimSpace(s)) > 20 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
				t.Fatalf("error echoes a private key: %v", err)
			}
			return
		}
		if RecipientKind(r) == "unknown" {
			t.Fatalf("accepted a recipient of no known kind: %T", r)
		}
	})
}

func FuzzParseHeaderWraps(f *testing.F) {
	key, err := GenerateRecoveryKey()
	if err != nil {
		f.Fatal(err)
	}
	wraps, err := NewHeaderWraps(key, 3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(MarshalHeaderWraps(wraps))
	f.Add([]byte("22 00000000000000000000000000000000 0000000000000000000000000000000000000000000000000000000000000000\n"))
	f.Add([]byte("\n\n \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ws []HeaderWrap
		var err error
		rsscheck.AllocCap(t, 1<<20+16*uint64(len(b)), "parsing header wraps", func() {
			ws, err = ParseHeaderWraps(b)
		})
		if err != nil {
			return
		}
		if len(ws) > 1024 {
			t.Fatalf("%d wraps accepted (bound 1024)", len(ws))
		}
		again, err := ParseHeaderWraps(MarshalHeaderWraps(ws))
		if err != nil || len(again) != len(ws) {
			t.Fatalf("accepted wraps do not survive a rewrite: %v", err)
		}
		for i := range ws {
			if again[i].LogN != ws[i].LogN || !bytes.Equal(again[i].Salt, ws[i].Salt) || !bytes.Equal(again[i].Key, ws[i].Key) {
				t.Fatalf("wrap %d changed in a rewrite", i)
			}
		}
	})
}

// TestHeaderBackupScryptBounded: a luks-header.age whose scrypt stanza asks for work
// factor 20 (1 GiB of memory) is refused before scrypt runs, not computed.
func TestHeaderBackupScryptBounded(t *testing.T) {
	key, err := GenerateRecoveryKey()
	if err != nil {
		t.Fatal(err)
	}
	wraps, err := NewHeaderWraps(key, 1)
	if err != nil {
		t.Fatal(err)
	}
	file, err := EncryptHeaderBackupWithWrap([]byte("header"), wraps[0])
	if err != nil {
		t.Fatal(err)
	}
	sid, err := age.NewScryptIdentity(key)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := OpenHeaderBackupFile(file, sid); err != nil || string(b) != "header" {
		t.Fatalf("the file as written: %q %v", b, err)
	}
	stanza := []byte(" " + strconv.Itoa(headerWrapLogN) + "\n")
	i := bytes.Index(file, stanza)
	if i < 0 || !bytes.HasPrefix(file, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Fatalf("no scrypt stanza in\n%s", file)
	}
	crafted := append(append(append([]byte(nil), file[:i]...), " 20\n"...), file[i+len(stanza):]...)
	sid, _ = age.NewScryptIdentity(key)
	rsscheck.AllocCap(t, 64<<20, "opening a header backup asking for scrypt 2^20", func() {
		if _, err := OpenHeaderBackupFile(crafted, sid); err == nil {
			t.Error("a header backup asking for scrypt 2^20 was opened")
		}
	})
}
