package repo

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
)

// A repository has one master key and any number of key files in keys/, each holding
// the master key encrypted under one password (restic key add / key remove). A kit's
// repository has the key for the password kept inside the kit, and the keys that
// `travelkit remote add` makes for the recovery key and a passphrase of the person's,
// so that an off-site copy opens without the kit.

// KeyHints spare AddKey and KeyFor key derivations: each key file tried with a password
// costs one scrypt derivation (32 MiB and ~0.1 s of a core at restic's parameters), and
// two when it does not open (the fast derivation, then the reference before a password
// is called wrong). Hints only skip or reorder tries that could not change the answer;
// every answer that a key file opens is still a derivation that opened it.
type KeyHints struct {
	// Fresh says the password was just made at random (a new recovery key), so that no
	// key file can open with it: AddKey tries none and adds one. KeyFor ignores it.
	Fresh bool
	// First names a key file to try before the others: the one recorded for this secret.
	First string
	// Known are key files whose password the caller knows (the kit's own random
	// password's): one is tried only when its password is the one asked about, compared
	// in constant time instead of derived.
	Known []KnownKey
}

// KnownKey is a key file and the password that opens it.
type KnownKey struct {
	Name     string
	Password []byte
}

// skips reports whether the key file name is one the hints rule out for password: a
// known key file whose password differs.
func (h KeyHints) skips(name string, password []byte) bool {
	for _, k := range h.Known {
		if k.Name == name && subtle.ConstantTimeCompare(k.Password, password) == 0 {
			return true
		}
	}
	return false
}

// KeyFor returns the name of the key file that password opens (ErrWrongPassword when
// none does). Key files are tried h.First first, then cheapest first, within the bounds
// of loadKey; those h rules out are not tried.
func (r *Repository) KeyFor(ctx context.Context, password []byte, h KeyHints) (string, error) {
	var name string
	err := tryKeys(ctx, r.st, password, h, func(n string, k *Key) bool {
		name = n
		return sameKey(k, r.key)
	})
	if err != nil {
		return "", err
	}
	return name, nil
}

// AddKey adds a key file that opens the repository with password and returns its name.
// When a key file for password exists already, its name is returned and nothing is
// added; with h.Fresh none is looked for. The new key file has a salt of its own and
// DefaultKDF's parameters, derived once.
func (r *Repository) AddKey(ctx context.Context, password []byte, h KeyHints) (name string, added bool, err error) {
	if len(password) == 0 {
		return "", false, errors.New("an empty password opens nothing")
	}
	if !h.Fresh {
		if n, err := r.KeyFor(ctx, password, h); err == nil {
			return n, false, nil
		} else if !errors.Is(err, ErrWrongPassword) {
			return "", false, err
		}
	}
	kb, err := newKeyFile(r.key, password, DefaultKDF)
	if err != nil {
		return "", false, err
	}
	name = hashName(kb)
	if err := r.st.Save(ctx, Handle{KeyFile, name}, kb); err != nil {
		return "", false, fmt.Errorf("saving the new key: %w", err)
	}
	return name, true, nil
}

// ErrKeyInUse says a key file cannot be removed: the repository was opened with it.
var ErrKeyInUse = errors.New("the repository was opened with this key")

// RemoveKey removes the key file name. The key this Repository was opened with is refused
// (ErrKeyInUse), so that the last key of a repository is never removed.
func (r *Repository) RemoveKey(ctx context.Context, name string) error {
	if name == r.keyName {
		return fmt.Errorf("key %s: %w", shortName(name), ErrKeyInUse)
	}
	if _, err := r.st.Stat(ctx, Handle{KeyFile, name}); err != nil {
		return fmt.Errorf("key %s: %w", shortName(name), err)
	}
	return r.st.Remove(ctx, Handle{KeyFile, name})
}

// ReplaceKey makes newPassword open the repository instead of oldPassword: it adds a key
// file for newPassword, then removes every key file that oldPassword opens (not the key
// this Repository was opened with). For a rotated recovery key: the copies of the
// repository elsewhere (travelkit copy) get the new key file with the next copy, and lose
// the old one only where deletions are mirrored (copy --prune-remote).
func (r *Repository) ReplaceKey(ctx context.Context, oldPassword, newPassword []byte) (newName string, removed []string, err error) {
	newName, _, err = r.AddKey(ctx, newPassword, KeyHints{})
	if err != nil {
		return "", nil, err
	}
	for {
		n, err := r.KeyFor(ctx, oldPassword, KeyHints{})
		if errors.Is(err, ErrWrongPassword) {
			return newName, removed, nil
		}
		if err != nil {
			return newName, removed, err
		}
		if n == newName {
			return newName, removed, errors.New("the old and the new password are the same")
		}
		if err := r.RemoveKey(ctx, n); err != nil {
			return newName, removed, err
		}
		removed = append(removed, n)
	}
}

// KeyName is the name of the key file the repository was opened with.
func (r *Repository) KeyName() string { return r.keyName }

// On returns the same repository (master key and config) on another storage, such as a
// copy of it elsewhere; its index is empty. Used to lock and check a mirror.
func (r *Repository) On(st Storage) *Repository {
	m := newRepository(st)
	m.key, m.keyName, m.cfg, m.Compression, m.PackSize = r.key, r.keyName, r.cfg, r.Compression, r.PackSize
	m.idx = NewIndex()
	return m
}

func shortName(n string) string { return n[:min(8, len(n))] }

// sameKey reports whether two master keys are equal, in constant time.
func sameKey(a, b *Key) bool {
	return subtle.ConstantTimeCompare(a.Encrypt[:], b.Encrypt[:])&
		subtle.ConstantTimeCompare(a.MACK[:], b.MACK[:])&
		subtle.ConstantTimeCompare(a.MACR[:], b.MACR[:]) == 1
}
