package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { registerLuks(newLuksChangeKeyCmd) }

func newLuksChangeKeyCmd() *cobra.Command {
	var passFile, newPassFile string
	var slot int
	var kdf kdfFlags
	cmd := &cobra.Command{
		Use:   "change-key DEVICE",
		Short: "Replace a passphrase with a new one",
		Long: `Replace the passphrase of a keyslot of DEVICE, like cryptsetup luksChangeKey:
the keyslot that the old passphrase (--passphrase-file) opens, or --key-slot, gets
the new passphrase (--new-passphrase-file, or asked twice on the terminal). The
KDF flags are those of ` + "`travelkit luks format`" + `.`,
		Example: `  travelkit luks change-key kit.luks --passphrase-file old.txt --new-passphrase-file new.txt`,
		Args:    exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if err := checkSlotFlag(slot); err != nil {
				return err
			}
			p, err := kdf.params()
			if err != nil {
				return err
			}
			d, c, err := openContainer(path, true)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := checkComplete(d, c); err != nil {
				return err
			}
			old, err := getSecret(passFile, "passphrase file", "Current passphrase for "+path, false)
			if err != nil {
				return err
			}
			defer clear(old)
			// check the old passphrase before asking for the new one
			vk, used, err := c.Unlock(old)
			if slot >= 0 {
				vk, err = c.UnlockSlot(old, slot)
				used = slot
			}
			if err != nil {
				return unlockError(path, old, passFile, err)
			}
			vk.Wipe()
			newPass, err := getSecret(newPassFile, "new passphrase file", "New passphrase", true)
			if err != nil {
				return err
			}
			defer clear(newPass)
			var got int
			err = runWithNote(calibrationNote(p), func() error {
				var err error
				got, err = c.ChangePassphrase(old, newPass, used, p)
				return err
			})
			if err != nil {
				return fmt.Errorf("failed to change the passphrase of keyslot %d of %s: %w", used, path, err)
			}
			if err := d.Close(); err != nil {
				return err
			}
			fmt.Printf("Changed the passphrase of %s (keyslot %d).\n", path, got)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&passFile, "passphrase-file", "", "the current passphrase, byte for byte (\"-\": standard input)")
	f.StringVar(&newPassFile, "new-passphrase-file", "", "the new passphrase, byte for byte")
	f.IntVar(&slot, "key-slot", -1, "the keyslot to change (default: the one the current passphrase opens)")
	kdf.register(f)
	hideDefault(cmd.Flags(), "key-slot")
	return cmd
}
