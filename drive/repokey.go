package drive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"travelkit/repo"
)

// RepoMasterKey, inside the volume, keeps the kit repository's master key (restic's
// masterkey object) and the name of the key file it was first opened with, so that a
// command on the kit opens its repository without the key file's scrypt (~0.1 s of a
// core and 32 MiB). It gives nothing the volume did not give already: the repository
// password beside it opens the same key. A key that does not open the repository's
// config is ignored (the password is used, and the file written again).
const RepoMasterKey = MetaDir + "/repo-master-key"

type keptKey struct {
	KeyFile string          `json:"key_file"`
	Master  json.RawMessage `json:"master"`
}

// OpenKeptRepository opens the kit's repository on st with the master key kept in the
// volume (RepoMasterKey): it fails when there is none or it does not open the config.
// After an UnlockEarly, a repository opened so proves the keyslot's key (Accept): only
// the volume key decrypts the kept key and the config to bytes whose MAC verifies.
func (u *Unlocked) OpenKeptRepository(ctx context.Context, st repo.Storage) (*repo.Repository, error) {
	b, err := u.ReadSmallFile(RepoMasterKey)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	var k keptKey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", RepoMasterKey, err)
	}
	defer clear(k.Master)
	return repo.OpenWithKey(ctx, st, k.Master, k.KeyFile)
}

// KeepRepositoryKey writes r's master key to RepoMasterKey, unless the volume is
// read-only or the key kept there is r's already. It is written after a flush of its
// content and with no flush after its name (a cut loses it; the next command writes it
// again).
func (u *Unlocked) KeepRepositoryKey(r *repo.Repository) error {
	if !u.Writable || u.pending != nil {
		return nil
	}
	m, err := r.MasterKey()
	if err != nil {
		return err
	}
	defer clear(m)
	b, err := json.Marshal(keptKey{KeyFile: r.KeyName(), Master: m})
	if err != nil {
		return err
	}
	defer clear(b)
	if old, err := u.ReadSmallFile(RepoMasterKey); err == nil {
		same := bytes.Equal(old, b)
		clear(old)
		if same {
			return nil
		}
	}
	return u.FS.WriteFileLater(RepoMasterKey, bytes.NewReader(b), int64(len(b)), time.Now())
}

// Accept ends an UnlockEarly as Verify does for the first keyslot's key, without waiting
// for the rest of its digest check (luks.PendingUnlock.Accept): for a caller whose
// repository opened with OpenKeptRepository, which proves the key as strongly. A digest
// check that had already found the key wrong is the error (the volume closed, as
// Verify). After Unlock, or a second time, it does nothing.
func (u *Unlocked) Accept() error {
	p := u.pending
	if p == nil {
		return nil
	}
	u.pending = nil
	vk, slot, err := p.Accept()
	if err != nil {
		u.FS.Close()     // writes nothing: the volume refuses every write
		u.Volume.Close() // wipes the key schedule; it cannot fail
		return err
	}
	u.Slot, u.Key = slot, vk // wiped by Close
	if u.Writable {
		if _, err := u.FS.RestrictModes(); err != nil {
			return fmt.Errorf("making the encrypted volume's files private: %w", err)
		}
	}
	return nil
}

// OwnRepoKey returns the kit's own repository key file with its password, for
// repo.KeyHints.Known: the key file r was opened with (its KeyName, which the kept key
// names too) is the one of the password at RepoPassword, which the build made the
// repository with and every command on the kit opens it with. A key change then never
// tries a secret that is not that password on it (no scrypt). ok is false when the
// password cannot be read. The caller clears k.Password.
func (u *Unlocked) OwnRepoKey(r *repo.Repository) (k repo.KnownKey, ok bool) {
	pw, err := u.FS.ReadFile(RepoPassword)
	if err != nil {
		return repo.KnownKey{}, false
	}
	defer clear(pw)
	pass := bytes.TrimSpace(pw)
	if len(pass) == 0 || r.KeyName() == "" {
		return repo.KnownKey{}, false
	}
	return repo.KnownKey{Name: r.KeyName(), Password: bytes.Clone(pass)}, true
}
