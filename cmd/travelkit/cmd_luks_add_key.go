package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

func newLuksAddKeyCmd() *cobra.Command {
	var o newKeyFlags
	cmd := &cobra.Command{
		Use:  "add-key DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksAddKey(&o, args) },
	}
	o.register(cmd.Flags())
	return cmd
}

func runLuksAddKey(o *newKeyFlags, args []string) error {
	path := args[0]
	if err := checkSlotFlag(o.slot); err != nil {
		return err
	}
	p, err := o.kdf.params()
	if err != nil {
		return err
	}
	if o.passFile != "" && o.passFile == o.newPassFile {
		return usageErrorT("cli.luks.same_file")
	}
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if o.slot >= 0 {
		for _, k := range c.Keyslots() {
			if k.ID == o.slot {
				return withCodeT(ExitRefused, errorT("cli.luks.slot_in_use", o.slot, path), "cli.luks.slot_in_use_hint", path)
			}
		}
	}
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	defer vk.Wipe()
	newPass, err := getNewSecret(o.newPassFile, "new passphrase file", tr.T("cli.prompt.new"))
	if err != nil {
		return err
	}
	defer clear(newPass)
	var got int
	err = runWithNote(calibrationNote(p), func() error {
		var err error
		got, err = c.AddKeyslot(vk, newPass, o.slot, p)
		return err
	})
	switch {
	case errors.Is(err, luks.ErrNoFreeKeyslot), errors.Is(err, luks.ErrNoKeyslotSpace):
		return withCodeT(ExitRefused, wrapT(err, "cli.luks.add_no_room", path, describeError(err)), "cli.luks.add_no_room_hint")
	case errors.Is(err, luks.ErrKeyslotInUse):
		return withCodeT(ExitRefused, wrapT(err, "cli.luks.slot_err", o.slot, path, describeError(err)), "cli.luks.slot_free_hint")
	case err != nil:
		return wrapT(err, "cli.luks.add_failed", path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.added", path, got))
	return nil
}
