package drive

import (
	"errors"
	"fmt"

	"travelkit/image/fat32"
	"travelkit/internal/durable"
	"travelkit/kit"
)

// ageHeaderShred is how much of an encrypted header backup Erase overwrites: far more than
// any age header (a few hundred bytes per recipient, a few KiB for post-quantum ones), and
// a small part of a 16 MiB file.
const ageHeaderShred = 1 << 20

// EraseReport says what Erase destroyed.
type EraseReport struct {
	LUKSUUID string   `json:"luks_uuid"`
	Keyslots int      `json:"keyslots_destroyed"`
	Shredded []string `json:"header_backups_shredded,omitempty"`
}

// Erase makes the kit unopenable from the drive alone: every keyslot's key material is
// overwritten with random bytes and the keyslots are removed from both header copies (as
// cryptsetup luksErase does), then the encrypted header backups on the tools partition are
// shredded (their age headers overwritten, every cluster freed, the entries deleted), so
// that neither the passphrase nor the recovery key opens the drive ever again. The data is untouched: a header backup kept elsewhere (a colleague's escrow
// copy) brings the keyslots back. The drive must have been opened for writing.
func (d *Drive) Erase() (*EraseReport, error) {
	c, err := d.Container()
	if err != nil {
		return nil, err
	}
	rep := &EraseReport{LUKSUUID: c.UUID(), Keyslots: len(c.Keyslots())}
	if err := c.Erase(); err != nil {
		return rep, fmt.Errorf("erasing the keyslots: %w", err)
	}
	for _, p := range []string{kit.HeaderBackupPath, kit.EscrowHeaderBackupPath} {
		// The age header at the start of the file holds the only copies of its file key
		// (wrapped for the recipients, or by the recovery key): with it overwritten, the
		// rest is ciphertext nobody can decrypt, with any identity or the recovery key.
		err := fat32.ShredHead(d.Tools, d.Tools.Size(), p, ageHeaderShred)
		switch {
		case err == nil:
			rep.Shredded = append(rep.Shredded, p)
		case errors.Is(err, fat32.ErrNoFile):
		default:
			return rep, fmt.Errorf("the keyslots are erased, but shredding %s on the tools partition failed: %w (it still opens with the recovery key: delete it by hand)", p, err)
		}
	}
	return rep, durable.Flush(d.Tools)
}
