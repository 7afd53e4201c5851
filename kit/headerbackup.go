package kit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// A kit carries its LUKS2 header backup (cryptsetup luksHeaderBackup's format), encrypted
// with age twice, because age does not mix the two kinds of recipient in one file:
//
//   - escrow/luks-header.age, to every escrow recipient: a colleague revives a kit whose
//     keyslots were erased (travelkit erase) from their --escrow-dir copy;
//   - luks-header.age, with the recovery key as an age passphrase (scrypt): `age -d`
//     opens it when the recovery key is typed.
//
// Both are rewritten after every key change. The header backup keeps the keyslots of its
// day: a passphrase that was valid when it was written opens the kit through it.
const (
	headerBackupName       = "luks-header"
	HeaderBackupPath       = headerBackupName + ".age"
	EscrowHeaderBackupPath = "escrow/" + headerBackupName + ".age"
	// HeaderWrapsPath, inside the encrypted volume (under TrustedDir), holds the
	// recovery-key wraps that let travelkit rewrite luks-header.age without the recovery
	// key (after a passphrase change).
	HeaderWrapsPath = "header-wraps"
)

// maxHeaderBackup bounds a decrypted header backup (LUKS2's largest header area).
const maxHeaderBackup = 2*(4<<20) + 128<<20

// EncryptHeaderBackupTo encrypts a header backup to the escrow recipients (binary age:
// the file is large, and `age -d` reads either form).
func EncryptHeaderBackupTo(backup []byte, recipients []string) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("no escrow recipients")
	}
	var rs []age.Recipient
	for _, s := range recipients {
		r, err := ParseRecipient(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return encrypt(backup, rs...)
}

func encrypt(plain []byte, rs ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return nil, fmt.Errorf("failed to encrypt the header backup: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxHeaderBackupLogN bounds the scrypt work factor a header backup may ask of a
// recovery-key identity: 2^18 (256 MiB of memory, age -p's own choice). travelkit writes
// 2^10 (headerWrapLogN); age's default bound, 2^22, would let a crafted file take 4 GiB.
const maxHeaderBackupLogN = 18

// OpenHeaderBackupFile decrypts an encrypted header backup with identities (an escrow
// identity, or age.NewScryptIdentity(recovery key): its work factor bound is lowered to
// maxHeaderBackupLogN).
func OpenHeaderBackupFile(file []byte, identities ...age.Identity) ([]byte, error) {
	for _, id := range identities {
		if s, ok := id.(*age.ScryptIdentity); ok {
			s.SetMaxWorkFactor(maxHeaderBackupLogN)
		}
	}
	r, err := age.Decrypt(bytes.NewReader(file), identities...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) {
			return nil, ErrIncorrectIdentity
		}
		return nil, fmt.Errorf("failed to decrypt the header backup: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxHeaderBackup+1))
	if err != nil {
		return nil, fmt.Errorf("failed to decrypt the header backup: %w", err)
	}
	if len(b) > maxHeaderBackup {
		return nil, fmt.Errorf("the decrypted header backup is larger than %d bytes: not a header backup", maxHeaderBackup)
	}
	return b, nil
}

// A HeaderWrap is one age scrypt stanza key made from the recovery key: scrypt of the
// recovery key under a fresh salt, exactly as age's passphrase encryption computes it.
// Holding it, travelkit can write a luks-header.age that `age -d` opens with the recovery
// key, without knowing the key. Each wrap is used for one file only (age wraps the file
// key with a fixed nonce), so a pool of them is made whenever the recovery key is known
// (build, rotation) and kept inside the encrypted volume. A wrap opens nothing but the
// header backups written with it, which themselves need a keyslot secret.
type HeaderWrap struct {
	Salt []byte // 16 bytes
	LogN int    // scrypt work factor
	Key  []byte // 32 bytes
}

// headerWrapLogN is the scrypt work factor of the wraps. The recovery key carries 256
// random bits, so scrypt's cost adds no strength; a small one keeps the pool cheap to make.
const (
	headerWrapLogN   = 10
	HeaderWrapsCount = 64
	scryptLabel      = "age-encryption.org/v1/scrypt"
)

// NewHeaderWraps makes n wraps of the recovery key.
func NewHeaderWraps(recoveryKey string, n int) ([]HeaderWrap, error) {
	key, err := ParseRecoveryKey(recoveryKey)
	if err != nil {
		return nil, err
	}
	out := make([]HeaderWrap, n)
	for i := range out {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		k, err := scrypt.Key([]byte(key), append([]byte(scryptLabel), salt...), 1<<headerWrapLogN, 8, 1, chacha20poly1305.KeySize)
		if err != nil {
			return nil, err
		}
		out[i] = HeaderWrap{Salt: salt, LogN: headerWrapLogN, Key: k}
	}
	return out, nil
}

// MarshalHeaderWraps writes wraps one a line: "LOGN SALT-HEX KEY-HEX".
func MarshalHeaderWraps(ws []HeaderWrap) []byte {
	var b bytes.Buffer
	for _, w := range ws {
		fmt.Fprintf(&b, "%d %x %x\n", w.LogN, w.Salt, w.Key)
	}
	return b.Bytes()
}

// ParseHeaderWraps reads what MarshalHeaderWraps wrote (at most 1024 wraps).
func ParseHeaderWraps(b []byte) ([]HeaderWrap, error) {
	var out []HeaderWrap
	for n, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		if len(out) == 1024 {
			return nil, errors.New("header wraps: too many")
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("header wraps: line %d is malformed", n+1)
		}
		logN, err := strconv.Atoi(f[0])
		salt, err2 := hex.DecodeString(f[1])
		key, err3 := hex.DecodeString(f[2])
		if err != nil || err2 != nil || err3 != nil || logN < 1 || logN > 22 || len(salt) != 16 || len(key) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("header wraps: line %d is malformed", n+1)
		}
		out = append(out, HeaderWrap{Salt: salt, LogN: logN, Key: key})
	}
	return out, nil
}

// wrapRecipient is an age recipient that wraps the file key with a HeaderWrap: the stanza
// is the one age.ScryptRecipient would write for the recovery key and this salt.
type wrapRecipient struct{ w HeaderWrap }

func (r wrapRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	aead, err := chacha20poly1305.New(r.w.Key)
	if err != nil {
		return nil, err
	}
	body := aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), fileKey, nil)
	return []*age.Stanza{{
		Type: "scrypt",
		Args: []string{base64.RawStdEncoding.EncodeToString(r.w.Salt), strconv.Itoa(r.w.LogN)},
		Body: body,
	}}, nil
}

// WrapWithLabels gives the stanza a random label, as age's scrypt recipient does, so that
// it cannot be mixed with other recipients.
func (r wrapRecipient) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	s, err := r.Wrap(fileKey)
	label := make([]byte, 16)
	rand.Read(label)
	return s, []string{hex.EncodeToString(label)}, err
}

// EncryptHeaderBackupWithWrap writes luks-header.age: the header backup, openable by
// `age -d` with the recovery key typed as the passphrase.
func EncryptHeaderBackupWithWrap(backup []byte, w HeaderWrap) ([]byte, error) {
	return encrypt(backup, wrapRecipient{w})
}
