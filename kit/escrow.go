package kit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"

	"travelkit/ssss"
)

// MaxEscrowSize bounds an escrow file read from a drive (one is a few hundred bytes to a
// few KiB, depending on the recipient).
const MaxEscrowSize = 1 << 20

// Escrow files are ASCII-armored age files ("-----BEGIN AGE ENCRYPTED FILE-----"): they
// survive being pasted into an email or a chat, and the stock `age -d -i IDENTITY` reads
// them as they are (age detects the armor). Each holds the recovery key and a newline,
// encrypted to one recipient alone.

// EscrowPath is where the escrow file for the colleague called name lives on the tools
// partition, and its name in --escrow-dir.
func EscrowPath(name string) string { return "escrow/" + name + ".age" }

var escrowNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidEscrowName reports whether name is safe as a file name on every OS (FAT32, NTFS,
// HFS+, ext4): 1 to 64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit,
// and not one of Windows' reserved device names.
func ValidEscrowName(name string) error {
	if !escrowNameRE.MatchString(name) {
		return fmt.Errorf("escrow name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	if strings.HasSuffix(name, ".") {
		return fmt.Errorf("escrow name %q: must not end with '.' (Windows drops it)", name)
	}
	if strings.EqualFold(name, headerBackupName) {
		return fmt.Errorf("escrow name %q: taken by the escrowed LUKS header backup (escrow/%s.age)", name, headerBackupName)
	}
	base := strings.ToUpper(name)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return fmt.Errorf("escrow name %q: a reserved device name on Windows", name)
	}
	return nil
}

// RecipientKind names the kind of an escrow recipient, for plans and the manifest.
func RecipientKind(r age.Recipient) string {
	switch r.(type) {
	case *age.X25519Recipient:
		return "age-x25519"
	case *age.HybridRecipient:
		return "age-mlkem768x25519"
	case *agessh.Ed25519Recipient:
		return "ssh-ed25519"
	case *agessh.RSARecipient:
		return "ssh-rsa"
	}
	return "unknown"
}

// ParseRecipient parses an escrow recipient: an age X25519 public key ("age1..."), an age
// post-quantum hybrid ML-KEM-768+X25519 public key ("age1pq1...", age v1.3+), or an SSH public
// key in authorized_keys form ("ssh-ed25519 AAAA... comment" or "ssh-rsa AAAA..."). Plugin
// recipients (age1yubikey1..., age1tpm1...) are refused: the colleague would need the plugin
// to decrypt and travelkit cannot run it.
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, errors.New("empty recipient: want an age public key (age1...) or an ssh public key")
	case strings.HasPrefix(s, "AGE-SECRET-KEY-") || strings.HasPrefix(s, "AGE-PLUGIN-"):
		// Never echo a private key back.
		return nil, errors.New("this is an age private key (AGE-SECRET-KEY-...), not a recipient: use the public key that age-keygen printed (age1...)")
	case strings.HasPrefix(s, "-----BEGIN"):
		return nil, errors.New("this is a private key, not a recipient: use the public key (the .pub file)")
	case strings.HasPrefix(s, "age1"):
		// Bech32: the human-readable part ends at the last '1'.
		switch hrp := s[:strings.LastIndexByte(s, '1')]; hrp {
		case "age":
			r, err := age.ParseX25519Recipient(s)
			if err != nil {
				return nil, fmt.Errorf("invalid age recipient: %w", err)
			}
			return r, nil
		case "age1pq":
			r, err := age.ParseHybridRecipient(s)
			if err != nil {
				return nil, fmt.Errorf("invalid post-quantum age recipient: %w", err)
			}
			return r, nil
		default:
			return nil, fmt.Errorf("age plugin recipients (%s1...) are not supported: use an age public key (age1... or age1pq1...) or an ssh public key", hrp)
		}
	case strings.HasPrefix(s, "ssh-"):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("invalid ssh recipient: %w", err)
		}
		return r, nil
	}
	return nil, errors.New("unknown recipient type: want an age public key (age1...), a post-quantum age public key (age1pq1...) or an ssh-ed25519/ssh-rsa public key")
}

// Escrow encrypts the recovery key (normalised first) to one recipient and returns the
// armored age file.
func Escrow(recoveryKey, recipient string) ([]byte, error) {
	key, err := ParseRecoveryKey(recoveryKey)
	if err != nil {
		return nil, err
	}
	return escrowText(key, recipient)
}

// escrowText encrypts one line of text (a recovery key or an ssss share) to one recipient
// as an armored age file.
func escrowText(line, recipient string) ([]byte, error) {
	key := line
	r, err := ParseRecipient(recipient)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, fmt.Errorf("failed to encrypt the escrow file: %w", err)
	}
	if _, err := io.WriteString(w, key+"\n"); err != nil {
		return nil, fmt.Errorf("failed to encrypt the escrow file: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to encrypt the escrow file: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("failed to encrypt the escrow file: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrIncorrectIdentity means that none of the identities can open the escrow file.
var ErrIncorrectIdentity = errors.New("none of the identities can open this escrow file")

// ParseIdentities parses an identity file given with --identity: an age identity file (lines
// AGE-SECRET-KEY-1... for X25519 and AGE-SECRET-KEY-PQ-1... for post-quantum keys, with
// comments and blank lines as age-keygen writes them), or an unencrypted OpenSSH or PEM ssh
// private key (ed25519 or RSA). Errors never include key material.
func ParseIdentities(data []byte) ([]age.Identity, error) {
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		id, err := agessh.ParseIdentity(trimmed)
		if err != nil {
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return nil, errors.New("this ssh private key is protected by a passphrase, which travelkit does not ask for; decrypt the escrow file with `age -d -i KEY`, or use an unprotected copy of the key (ssh-keygen -p -N '' -f COPY) on a trusted computer")
			}
			return nil, errors.New("not a usable ssh private key: want an unencrypted ed25519 or rsa key")
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an age identity file or ssh private key: %v", err)
	}
	return ids, nil
}

// OpenEscrow decrypts an escrow file (armored or binary age) with the given identities and
// returns the normalised recovery key. An escrow file holding a share is an error that says
// so (ErrIsShare): use OpenEscrowFile.
func OpenEscrow(file []byte, identities ...age.Identity) (string, error) {
	c, err := OpenEscrowFile(file, identities...)
	if err != nil {
		return "", err
	}
	if c.Key == "" {
		c.Share.Wipe()
		return "", ErrIsShare
	}
	return c.Key, nil
}

// ErrIsShare is returned by OpenEscrow for an escrow file that holds one share of a k-of-n
// escrow rather than the whole recovery key.
var ErrIsShare = errors.New("this escrow file holds one share of the recovery key, not the whole key: more shares are needed")

// EscrowContent is what an escrow file holds: the whole recovery key (a 1-of-n escrow),
// or one ssss share of it (k-of-n).
type EscrowContent struct {
	Key   string     // the normalised recovery key, or ""
	Share ssss.Share // with Key == "": the share
}

// OpenEscrowFile decrypts an escrow file (armored or binary age) with the given identities.
func OpenEscrowFile(file []byte, identities ...age.Identity) (EscrowContent, error) {
	var src io.Reader = bytes.NewReader(file)
	if bytes.HasPrefix(bytes.TrimLeft(file, " \t\r\n"), []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		src = armor.NewReader(bytes.NewReader(bytes.TrimLeft(file, " \t\r\n")))
	}
	r, err := age.Decrypt(src, identities...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) {
			return EscrowContent{}, ErrIncorrectIdentity
		}
		return EscrowContent{}, fmt.Errorf("failed to open the escrow file: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return EscrowContent{}, fmt.Errorf("failed to open the escrow file: %w", err)
	}
	defer clear(plain)
	if key, err := ParseRecoveryKey(string(plain)); err == nil {
		return EscrowContent{Key: key}, nil
	}
	sh, err := ssss.ParseShare(string(plain))
	if err != nil {
		return EscrowContent{}, errors.New("the escrow file decrypted but holds neither a recovery key nor an ssss share")
	}
	return EscrowContent{Share: sh}, nil
}

// EscrowFiles makes one escrow file per recipient. With threshold <= 1 each holds the
// whole recovery key; with threshold k > 1 the key's text is split with ssss (as
// `ssss-split -t k -n N` would, N = len(recipients)) and file i holds share i+1, one ssss
// line: `age -d` prints it, and any k lines given to `ssss-combine -t k` print the key.
func EscrowFiles(recoveryKey string, threshold int, recipients []string) ([][]byte, error) {
	key, err := ParseRecoveryKey(recoveryKey)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(recipients))
	if threshold <= 1 {
		for i, r := range recipients {
			if out[i], err = escrowText(key, r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if threshold > len(recipients) {
		return nil, fmt.Errorf("escrow threshold %d with %d colleagues: nobody could rebuild the key", threshold, len(recipients))
	}
	shares, err := ssss.Split([]byte(key), threshold, len(recipients), nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range shares {
			s.Wipe()
		}
	}()
	for i, r := range recipients {
		if out[i], err = escrowText(shares[i].String(), r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NeedMoreError says how many more shares are needed to rebuild the recovery key.
type NeedMoreError struct{ Have, Need int }

func (e *NeedMoreError) Error() string {
	return fmt.Sprintf("%d more share%s needed (%d of %d given)", e.Need-e.Have, map[bool]string{true: "s"}[e.Need-e.Have != 1], e.Have, e.Need)
}

// CombineShares rebuilds the recovery key from ssss shares made with threshold k. With
// k == 0 (unknown: no manifest at hand) every threshold from the number of shares down to
// 2 is tried, and the one that gives a well-formed recovery key wins (a wrong threshold
// gives random bytes, never a key).
func CombineShares(shares []ssss.Share, k int) (string, error) {
	distinct := map[int]bool{}
	for _, s := range shares {
		distinct[s.Index] = true
	}
	if k > 0 {
		if len(distinct) < k {
			return "", &NeedMoreError{Have: len(distinct), Need: k}
		}
		secret, err := ssss.Combine(shares, k)
		if err != nil {
			return "", err
		}
		defer clear(secret)
		key, err := ParseRecoveryKey(string(secret))
		if err != nil {
			return "", errors.New("the shares combine to something that is not a recovery key: a share is from another kit or another rotation")
		}
		return key, nil
	}
	for t := len(distinct); t >= 2; t-- {
		if key, err := CombineShares(shares, t); err == nil {
			return key, nil
		}
	}
	return "", errors.New("these shares do not combine to a recovery key with any threshold: more are needed, or one is from another kit")
}
