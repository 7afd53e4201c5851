package drive

import (
	"errors"

	"filippo.io/age"
)

// ErrNoEscrowFiles says the tools partition has no escrow files at all.
var ErrNoEscrowFiles = errors.New("the tools partition has no escrow files")

// SecretFromEscrow rebuilds the recovery key, the keyslot passphrase, from the escrow
// files of the tools partition that a colleague's identities open: ReadEscrow and
// Escrow.RecoveryKey, for callers that have identities and no shares (the boot menu). A
// kit whose escrow is k-of-n gives a *SharesNeededError; no file opening gives
// ErrNoEscrowOpens.
func (d *Drive) SecretFromEscrow(identities []age.Identity) ([]byte, error) {
	esc, err := d.ReadEscrow()
	if err != nil {
		return nil, err
	}
	if len(esc.Files) == 0 {
		return nil, ErrNoEscrowFiles
	}
	rk, err := esc.RecoveryKey(identities, nil)
	if err != nil {
		return nil, err
	}
	return []byte(rk), nil
}
