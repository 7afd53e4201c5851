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
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"time"

	"travelkit/internal/scrypt"
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

// Bounds on what key files may ask of us, so that hostile ones cannot exhaust memory or
// time: scrypt needs 128*N*r bytes (plus 128*r*p for its p blocks) and time in
// proportion to 128*N*r*p.
//
// restic does not use fixed parameters: restic init and key add calibrate them by timing
// (500 ms and 60 MiB). N*r*128 stays at 32 MiB or below, but p is the target time
// divided by one timed derivation, so a fast CPU, or a derivation timed while the
// machine was momentarily idle after N was lowered under load, gives p of 20, 50 or
// more. Such keys are stock and must open; only p's time and memory are bounded.
const (
	// maxKeyFileSize bounds one key file (restic's are about 450 bytes).
	maxKeyFileSize = 64 << 10
	// maxScryptMem bounds one key's scrypt memory (128*N*r, and 128*r*p); restic's own
	// keys use at most 60 MiB.
	maxScryptMem = 256 << 20
	// maxKeys bounds the key files tried with one password, cheapest first.
	maxKeys = 20
	// maxKeyWork bounds the scrypt work (sum of 128*N*r*p) spent on one password, and so
	// the work of any one key: 8 GiB, about 50 times a 500 ms restic key calibrated on a
	// 2026 shared server core (128 MiB of work took 0.42 s there), so that a key restic
	// calibrated on a much faster machine still opens; a crafted key costs at most
	// about half a minute there.
	maxKeyWork = 8 << 30
	// maxKeyFilesListed bounds the key files read at all.
	maxKeyFilesListed = 1000
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
	const most = maxScryptMem / 128 // each of N, r and p alone, so that no product below overflows
	if kf.N <= 1 || kf.N&(kf.N-1) != 0 || kf.R <= 0 || kf.P <= 0 || kf.N > most || kf.R > most || kf.P > most ||
		int64(kf.N)*int64(kf.R)*128 > maxScryptMem || int64(kf.R)*int64(kf.P)*128 > maxScryptMem ||
		kf.work() > maxKeyWork {
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

// work is the scrypt work of deriving the key, 128*N*r*p; within parseKeyFile's bounds
// on N, r and p it cannot overflow.
func (kf *keyFileJSON) work() int64 {
	return int64(kf.N) * int64(kf.R) * int64(kf.P) * 128
}

// openKeyFile derives the user key from password and decrypts the master key.
func openKeyFile(b []byte, password []byte) (*Key, error) {
	kf, err := parseKeyFile(b)
	if err != nil {
		return nil, err
	}
	return kf.open(password)
}

// open derives the user key from password and decrypts the master key.
func (kf *keyFileJSON) open(password []byte) (*Key, error) {
	mk, err := kf.unseal(password, deriveFast)
	if err != nil {
		// The fast derivation (assembly on amd64) is not the reference: should it ever
		// derive a wrong key, for a CPU or a case its tests did not cover, every password
		// would look wrong and people would be locked out of their backups. So before
		// saying a password is wrong (or the key file damaged), derive once more with
		// golang.org/x/crypto/scrypt and report what that gives. A key wrong only in its
		// encryption half passes the MAC and fails at the JSON, so any error takes this
		// path, not just a MAC mismatch. A wrong password costs one more derivation; a
		// right one never does.
		mk, err = kf.unseal(password, scrypt.KeyReference)
	}
	return mk, err
}

// deriveFast is the key derivation tried first when opening a key file (tests replace it
// with a broken one to see the reference take over).
var deriveFast = scrypt.Key

// unseal derives the user key from password with derive (scrypt) and decrypts the key
// file's master key; ErrWrongPassword when its MAC does not match.
func (kf *keyFileJSON) unseal(password []byte, derive func(password, salt []byte, N, r, p, keyLen int) ([]byte, error)) (*Key, error) {
	dk, err := derive(password, kf.Salt, kf.N, kf.R, kf.P, 64)
	if err != nil {
		return nil, err
	}
	// scrypt's work area (128*N*r bytes: 32 MiB for restic's N=32768, r=8) is garbage
	// now, but it set the heap goal: left to the next collection it would stay resident
	// while a backup's or restore's buffers grow to that goal, adding it to their peak.
	// Collect it and give its pages back before anything else is allocated.
	debug.FreeOSMemory()
	uk, err := keyFromBytes(dk)
	clear(dk)
	if err != nil {
		return nil, err
	}
	plain, err := uk.Open(nil, kf.Data)
	if err != nil {
		return nil, ErrWrongPassword
	}
	var mk Key
	err = json.Unmarshal(plain, &mk)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("invalid master key in key file: %w", err)
	}
	return &mk, nil
}

// keyOwner is the machine and user a key file names, as restic's do ("key list").
type keyOwner struct{ host, user string }

// thisOwner is this machine and its current user.
func thisOwner() keyOwner {
	var o keyOwner
	o.host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		o.user = u.Username
	}
	return o
}

// newKeyFile encrypts master under password and returns the key file bytes, naming
// this machine and user.
func newKeyFile(master *Key, password []byte, p KDFParams) ([]byte, error) {
	return newKeyFileFor(master, password, p, thisOwner())
}

// newKeyFileFor is newKeyFile naming owner.
func newKeyFileFor(master *Key, password []byte, p KDFParams, owner keyOwner) ([]byte, error) {
	salt := make([]byte, 64)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	// A new key is derived with golang.org/x/crypto/scrypt, the reference, never with the
	// fast path: whatever the fast path does, what we write is what restic derives.
	dk, err := scrypt.KeyReference(password, salt, p.N, p.R, p.P, 64)
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
	kf := keyFileJSON{
		Created: time.Now(), Username: owner.user, Hostname: owner.host,
		KDF: "scrypt", N: p.N, R: p.R, P: p.P, Salt: salt,
		Data: uk.Seal(nil, mj),
	}
	clear(mj)
	return json.Marshal(kf)
}

// loadKey tries the key files with password, cheapest first and within maxKeys and
// maxKeyWork, and returns the first master key one of them opens.
func loadKey(ctx context.Context, st Storage, password []byte) (*Key, string, error) {
	var key *Key
	var name string
	err := tryKeys(ctx, st, password, KeyHints{}, func(n string, k *Key) bool {
		key, name = k, n
		return true
	})
	if err != nil {
		return nil, "", err
	}
	return key, name, nil
}

type keyCandidate struct {
	name string
	kf   *keyFileJSON
	work int64
}

// tryKeys derives the user key of each key file with password, h.First first, then
// cheapest first, until accept returns true; key files h rules out are neither read nor
// tried. It returns ErrWrongPassword (wrapped, naming what was not tried when a limit was
// reached) when nothing was accepted.
func tryKeys(ctx context.Context, st Storage, password []byte, h KeyHints, accept func(name string, k *Key) bool) error {
	type listed struct {
		name string
		size int64
	}
	var names []listed
	err := st.List(ctx, KeyFile, func(name string, size int64) error {
		names = append(names, listed{name, size})
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing keys: %w", err)
	}
	if len(names) == 0 {
		return errors.New("no key files found: is this a restic repository?")
	}
	untried, total := 0, len(names)
	if len(names) > maxKeyFilesListed {
		untried += len(names) - maxKeyFilesListed
		names = names[:maxKeyFilesListed]
	}
	var cands []keyCandidate
	for _, n := range names {
		if h.skips(n.name, password) {
			continue
		}
		if n.size > maxKeyFileSize {
			untried++
			continue
		}
		b, err := st.Load(ctx, Handle{KeyFile, n.name}, 0, int(max(n.size, 1)))
		if err != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		kf, err := parseKeyFile(b)
		if err != nil {
			untried++
			continue
		}
		cands = append(cands, keyCandidate{n.name, kf, kf.work()})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].work < cands[j].work })
	if i := slices.IndexFunc(cands, func(c keyCandidate) bool { return c.name == h.First }); i > 0 {
		first := cands[i]
		copy(cands[1:i+1], cands[:i])
		cands[0] = first
	}
	var work int64
	tried := 0
	for i, c := range cands {
		if tried >= maxKeys || work+c.work > maxKeyWork {
			untried += len(cands) - i
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		tried++
		work += c.work
		k, err := c.kf.open(password)
		if c.work >= 64<<20 {
			// hand scrypt's memory back before the next derivation asks for its own
			runtime.GC()
		}
		if err == nil && accept(c.name, k) {
			return nil
		}
	}
	if untried > 0 {
		return fmt.Errorf("%w (%d of the %d key files were not tried: unreadable, too large, more than %d, or costing more key derivation than travelkit spends on one password; a damaged or crafted repository?)",
			ErrWrongPassword, untried, total, maxKeys)
	}
	return ErrWrongPassword
}

func hashName(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
