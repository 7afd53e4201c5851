package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

func init() { registerLuks(newLuksAddKeyCmd) }

func newLuksAddKeyCmd() *cobra.Command {
	var passFile, newPassFile string
	var slot int
	var kdf kdfFlags
	cmd := &cobra.Command{
		Use:   "add-key DEVICE",
		Short: "Add a passphrase in a new keyslot",
		Long: `Add a new passphrase to DEVICE, like cryptsetup luksAddKey. An existing
passphrase (--passphrase-file) unlocks the volume key; the new one
(--new-passphrase-file, or asked twice on the terminal) goes into the first free
keyslot, or into --key-slot. The KDF flags are those of ` + "`travelkit luks format`" + `.`,
		Example: `  travelkit luks add-key kit.luks --passphrase-file pass.txt --new-passphrase-file recovery.txt
  travelkit luks add-key kit.luks --passphrase-file pass.txt --new-passphrase-file other.txt \
      --key-slot 5 --pbkdf pbkdf2 --iter-time 1000`,
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if err := checkSlotFlag(slot); err != nil {
				return err
			}
			p, err := kdf.params()
			if err != nil {
				return err
			}
			if passFile != "" && passFile == newPassFile {
				return usageErrorf("--passphrase-file and --new-passphrase-file are the same file")
			}
			d, c, err := openContainer(path, true)
			if err != nil {
				return err
			}
			defer d.Close()
			if slot >= 0 {
				for _, k := range c.Keyslots() {
					if k.ID == slot {
						return withCode(ExitRefused, fmt.Errorf("keyslot %d of %s is already in use", slot, path),
							"choose a free keyslot (see `travelkit luks dump "+path+"`), or leave out --key-slot")
					}
				}
			}
			vk, _, err := unlock(d, c, passFile, -1)
			if err != nil {
				return err
			}
			defer vk.Wipe()
			newPass, err := getSecret(newPassFile, "new passphrase file", "New passphrase", true)
			if err != nil {
				return err
			}
			defer clear(newPass)
			var got int
			err = runWithNote(calibrationNote(p), func() error {
				var err error
				got, err = c.AddKeyslot(vk, newPass, slot, p)
				return err
			})
			switch {
			case errors.Is(err, luks.ErrNoFreeKeyslot), errors.Is(err, luks.ErrNoKeyslotSpace):
				return withCode(ExitRefused, fmt.Errorf("cannot add a keyslot to %s: %w", path, err),
					"remove an unused keyslot first with `travelkit luks kill-slot`")
			case errors.Is(err, luks.ErrKeyslotInUse):
				return withCode(ExitRefused, fmt.Errorf("keyslot %d of %s: %w", slot, path, err), "choose a free keyslot, or leave out --key-slot")
			case err != nil:
				return fmt.Errorf("failed to add a keyslot to %s: %w", path, err)
			}
			if err := d.Close(); err != nil {
				return err
			}
			fmt.Printf("Added the new passphrase to %s in keyslot %d.\n", path, got)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&passFile, "passphrase-file", "", "an existing passphrase, byte for byte (\"-\": standard input)")
	f.StringVar(&newPassFile, "new-passphrase-file", "", "the new passphrase, byte for byte")
	f.IntVar(&slot, "key-slot", -1, "keyslot for the new passphrase (default: the first free one)")
	kdf.register(f)
	hideDefault(cmd.Flags(), "key-slot")
	return cmd
}
