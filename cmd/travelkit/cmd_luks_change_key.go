package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLuksChangeKeyCmd() *cobra.Command {
	var o newKeyFlags
	cmd := &cobra.Command{
		Use:  "change-key DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksChangeKey(&o, args) },
	}
	o.register(cmd.Flags())
	return cmd
}

func runLuksChangeKey(o *newKeyFlags, args []string) error {
	path := args[0]
	if err := checkSlotFlag(o.slot); err != nil {
		return err
	}
	p, err := o.kdf.params()
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
	old, err := getSecret(o.passFile, "passphrase file", tr.T("cli.prompt.current", path), false)
	if err != nil {
		return err
	}
	defer clear(old)
	// check the old passphrase before asking for the new one
	vk, used, err := c.Unlock(old)
	if o.slot >= 0 {
		vk, err = c.UnlockSlot(old, o.slot)
		used = o.slot
	}
	if err != nil {
		return unlockError(path, old, o.passFile, err)
	}
	vk.Wipe()
	newPass, err := getNewSecret(o.newPassFile, "new passphrase file", tr.T("cli.prompt.new"))
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
		return wrapT(err, "cli.luks.change_failed", used, path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.changed", path, got))
	return nil
}
