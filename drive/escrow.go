package drive

import (
	"errors"
	"strings"

	"filippo.io/age"

	"travelkit/kit"
)

// ErrNoEscrow says no escrow file of the tools partition opens with the identities given.
var ErrNoEscrow = errors.New("none of the escrow files on the tools partition opens with this identity")

// ErrNoEscrowFiles says the tools partition has no escrow files at all.
var ErrNoEscrowFiles = errors.New("the tools partition has no escrow files")

// SecretFromEscrow decrypts an escrow file of the tools partition (escrow/*.age) with a
// colleague's identities and returns the recovery key it holds, the keyslot passphrase.
func (d *Drive) SecretFromEscrow(identities []age.Identity) ([]byte, error) {
	fs, err := d.ToolsFS()
	if err != nil {
		return nil, err
	}
	ents, err := fs.ReadDir("escrow")
	if err != nil || len(ents) == 0 {
		return nil, ErrNoEscrowFiles
	}
	for _, e := range ents {
		if e.IsDir || !strings.HasSuffix(e.Name, ".age") {
			continue
		}
		b, err := fs.ReadFile("escrow/"+e.Name, kit.MaxEscrowSize)
		if err != nil {
			continue
		}
		if rk, err := kit.OpenEscrow(b, identities...); err == nil {
			return []byte(rk), nil
		}
	}
	return nil, ErrNoEscrow
}
