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
		return usageErrorT("cli.luks.kill.not_number", args[1], luks.MaxKeyslots-1)
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
		return withCodeT(ExitError, errorT("cli.luks.kill.not_used", slot, path), "cli.luks.see_dump_hint", path)
	}
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	vk.Wipe()
	err = c.RemoveKeyslot(slot, o.force)
	if errors.Is(err, luks.ErrLastKeyslot) {
		return withCodeT(ExitRefused, wrapT(err, "cli.luks.kill.last", slot, path), "cli.luks.kill.last_hint")
	}
	if err != nil {
		return wrapT(err, "cli.luks.kill.failed", slot, path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.kill.done", slot, path))
	return nil
}
