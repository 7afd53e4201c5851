package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

type luksTestPassphraseOptions struct {
	passFile string
	slot     int
}

func newLuksTestPassphraseCmd() *cobra.Command {
	var o luksTestPassphraseOptions
	cmd := &cobra.Command{
		Use:   "test-passphrase DEVICE",
		Short: "Check a passphrase against the volume's keyslots, changing nothing",
		Long: `Check that a passphrase unlocks DEVICE, like cryptsetup open --test-passphrase.
Keyslots are tried in priority order; --key-slot tries only that one. DEVICE is
opened read-only. The exit code is 0 when the passphrase matches and 3 when it
does not.`,
		Example: `  travelkit luks test-passphrase kit.luks --passphrase-file pass.txt
  travelkit luks test-passphrase kit.luks --key-slot 1   # asks on the terminal`,
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksTestPassphrase(&o, args) },
	}
	cmd.Flags().StringVar(&o.passFile, "passphrase-file", "", "read the passphrase from this file, byte for byte (\"-\": standard input)")
	cmd.Flags().IntVar(&o.slot, "key-slot", -1, "try only this keyslot")
	hideDefault(cmd.Flags(), "key-slot")
	return cmd
}

func runLuksTestPassphrase(o *luksTestPassphraseOptions, args []string) error {
	if err := checkSlotFlag(o.slot); err != nil {
		return err
	}
	d, c, err := openContainer(args[0], false)
	if err != nil {
		return err
	}
	defer d.Close()
	vk, used, err := unlock(d, c, o.passFile, o.slot)
	if err != nil {
		return err
	}
	vk.Wipe()
	fmt.Println(tr.T("cli.luks.test.done", used))
	return nil
}
