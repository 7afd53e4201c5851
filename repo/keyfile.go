package repo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"golang.org/x/crypto/scrypt"
)

// ErrWrongPassword means no key file of the repository opens with the password.
var ErrWrongPassword = errors.New("wrong password or no key found")

// KDFParams are the scrypt parameters of a new key file.
type KDFParams struct{ N, R, P int }

// DefaultKDF is used for new key files. Tests lower it.
var DefaultKDF = KDFParams{N: 1 << 15, R: 8, P: 1}

// keyFileJSON is the plain JSON of a file in keys/.
type keyFileJSON struct {
	Created  time.Time `json:"created"`
	Username string    `json:"username"`
	Hostname string    `json:"hostname"`
	KDF      string    `json:"kdf"`
	N        int       `json:"N"`
	R        int       `json:"r"`
	P        int       `json:"p"`
	Salt     []byte    `json:"salt"`
	Data     []byte    `json:"data"`
}

// Bounds on what a key file may ask of us, so that a hostile file cannot
// exhaust memory: scrypt needs 128*N*r bytes.
const (
	maxKeyFileSize = 1 << 20
	maxScryptMem   = 1 << 30
)

func parseKeyFile(b []byte) (*keyFileJSON, error) {
	if len(b) > maxKeyFileSize {
		return nil, errors.New("key file too large")
	}
	var kf keyFileJSON
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("invalid key file: %w", err)
	}
	if kf.KDF != "scrypt" {
		return nil, fmt.Errorf("unsupported key derivation %q", kf.KDF)
	}
	if kf.N <= 1 || kf.N&(kf.N-1) != 0 || kf.R <= 0 || kf.P <= 0 ||
		kf.R*kf.P >= 1<<30 || int64(kf.N)*int64(kf.R)*128 > maxScryptMem || kf.P > 16 {
		return nil, fmt.Errorf("invalid or excessive scrypt parameters N=%d r=%d p=%d", kf.N, kf.R, kf.P)
	}
	if len(kf.Salt) < 16 {
		return nil, errors.New("key file salt too short")
	}
	if len(kf.Data) < Overhead {
		return nil, errors.New("key file data too short")
	}
	return &kf, nil
}

// openKeyFile derives the user key from password and decrypts the master key.
func openKeyFile(b []byte, password []byte) (*Key, error) {
	kf, err := parseKeyFile(b)
	if err != nil {
		return nil, err
	}
	dk, err := scrypt.Key(password, kf.Salt, kf.N, kf.R, kf.P, 64)
	if err != nil {
		return nil, err
	}
	uk, err := keyFromBytes(dk)
	if err != nil {
		return nil, err
	}
	plain, err := uk.Open(nil, kf.Data)
	if err != nil {
		return nil, ErrWrongPassword
	}
	var mk Key
	if err := json.Unmarshal(plain, &mk); err != nil {
		return nil, fmt.Errorf("invalid master key in key file: %w", err)
	}
	return &mk, nil
}

// newKeyFile encrypts master under password and returns the key file bytes.
func newKeyFile(master *Key, password []byte, p KDFParams) ([]byte, error) {
	salt := make([]byte, 64)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	dk, err := scrypt.Key(password, salt, p.N, p.R, p.P, 64)
	if err != nil {
		return nil, err
	}
	uk, err := keyFromBytes(dk)
	if err != nil {
		return nil, err
	}
	mj, err := json.Marshal(master)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	kf := keyFileJSON{
		Created: time.Now(), Username: name, Hostname: host,
		KDF: "scrypt", N: p.N, R: p.R, P: p.P, Salt: salt,
		Data: uk.Seal(nil, mj),
	}
	clear(mj)
	return json.Marshal(kf)
}

// loadKey tries every key file with password (at most maxKeys of them).
func loadKey(ctx context.Context, st Storage, password []byte) (*Key, string, error) {
	var names []string
	err := st.List(ctx, KeyFile, func(name string, size int64) error {
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("listing keys: %w", err)
	}
	if len(names) == 0 {
		return nil, "", errors.New("no key files found: is this a restic repository?")
	}
	var firstErr error
	for _, n := range names {
		b, err := st.Load(ctx, Handle{KeyFile, n}, 0, 0)
		if err != nil {
			firstErr = err
			continue
		}
		k, err := openKeyFile(b, password)
		if err == nil {
			return k, n, nil
		}
		if !errors.Is(err, ErrWrongPassword) && firstErr == nil {
			firstErr = fmt.Errorf("key %s: %w", n, err)
		}
	}
	return nil, "", ErrWrongPassword
}

func hashName(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
