package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

type luksKillSlotOptions struct {
	passFile string
	force    bool
}

func newLuksKillSlotCmd() *cobra.Command {
	var o luksKillSlotOptions
	cmd := &cobra.Command{
		Use:  "kill-slot DEVICE N",
		Args: exactArgs("DEVICE", "N"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksKillSlot(&o, args) },
	}
	cmd.Flags().StringVar(&o.passFile, "passphrase-file", "", "")
	cmd.Flags().BoolVar(&o.force, "force", false, "")
	return cmd
}

func runLuksKillSlot(o *luksKillSlotOptions, args []string) error {
	path := args[0]
	slot, err := strconv.Atoi(args[1])
	if err != nil || slot < 0 || slot >= luks.MaxKeyslots {
		return usageErrorf("keyslot %q is not a keyslot number: use 0 to %d", args[1], luks.MaxKeyslots-1)
	}
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	found := false
	for _, k := range c.Keyslots() {
		found = found || k.ID == slot
	}
	if !found {
		return withCode(ExitError, fmt.Errorf("keyslot %d of %s is not in use", slot, path),
			"see the keyslots in use with `travelkit luks dump "+path+"`")
	}
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	vk.Wipe()
	err = c.RemoveKeyslot(slot, o.force)
	if errors.Is(err, luks.ErrLastKeyslot) {
		return withCode(ExitRefused, fmt.Errorf("keyslot %d is the last keyslot of %s: removing it makes the data unrecoverable", slot, path),
			"add another passphrase first with `travelkit luks add-key`, or pass --force if you really mean to lose the data")
	}
	if err != nil {
		return fmt.Errorf("failed to remove keyslot %d of %s: %w", slot, path, err)
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Printf("Removed keyslot %d of %s.\n", slot, path)
	return nil
}
