package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"travelkit/repo"
)

// Repository opens the backup repository inside the unlocked kit, with the master key
// kept at RepoMasterKey or else the password the build kept at travelkit/repo-password
// (then keeping the master key when the volume is writable), and loads its index. The build
// makes the repository and keeps its key; with create, a kit that holds no repository (one
// built before it did) gets one, at its first backup; without, that is repo.ErrNoRepository.
// The storage is read-only unless the volume was unlocked writable.
func (u *Unlocked) Repository(ctx context.Context, create bool) (*repo.Repository, error) {
	pw, err := u.FS.ReadFile(RepoPassword)
	if err != nil {
		return nil, fmt.Errorf("the kit has no repository password (%s): %w", RepoPassword, err)
	}
	defer clear(pw)
	pass := bytes.TrimSpace(pw)
	st := u.RepoStorage()
	if !u.Writable {
		st.SetReadOnly()
	}
	// the master key kept in the volume, if any, spares the key file's scrypt
	r, err := u.OpenKeptRepository(ctx, st)
	if err != nil {
		r, err = repo.Open(ctx, st, pass)
		if errors.Is(err, repo.ErrNoRepository) && create && u.Writable {
			r, err = repo.Init(ctx, st, pass)
		}
		if err != nil {
			return nil, err
		}
		_ = u.KeepRepositoryKey(r) // best effort: without it, the next open derives the key again
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, fmt.Errorf("reading the kit's backup index: %w", err)
	}
	return r, nil
}
