package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

type luksAddKeyOptions struct {
	passFile, newPassFile string
	slot                  int
	kdf                   kdfFlags
}

func newLuksAddKeyCmd() *cobra.Command {
	var o luksAddKeyOptions
	cmd := &cobra.Command{
		Use:  "add-key DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksAddKey(&o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.passFile, "passphrase-file", "", "")
	f.StringVar(&o.newPassFile, "new-passphrase-file", "", "")
	f.IntVar(&o.slot, "key-slot", -1, "")
	o.kdf.register(f)
	hideDefault(cmd.Flags(), "key-slot")
	return cmd
}

func runLuksAddKey(o *luksAddKeyOptions, args []string) error {
	path := args[0]
	if err := checkSlotFlag(o.slot); err != nil {
		return err
	}
	p, err := o.kdf.params()
	if err != nil {
		return err
	}
	if o.passFile != "" && o.passFile == o.newPassFile {
		return usageErrorf("--passphrase-file and --new-passphrase-file are the same file")
	}
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if o.slot >= 0 {
		for _, k := range c.Keyslots() {
			if k.ID == o.slot {
				return withCode(ExitRefused, fmt.Errorf("keyslot %d of %s is already in use", o.slot, path),
					"choose a free keyslot (see `travelkit luks dump "+path+"`), or leave out --key-slot")
			}
		}
	}
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	defer vk.Wipe()
	newPass, err := getSecret(o.newPassFile, "new passphrase file", tr.T("cli.prompt.new"), true)
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
		return withCode(ExitRefused, fmt.Errorf("cannot add a keyslot to %s: %w", path, err),
			"remove an unused keyslot first with `travelkit luks kill-slot`")
	case errors.Is(err, luks.ErrKeyslotInUse):
		return withCode(ExitRefused, fmt.Errorf("keyslot %d of %s: %w", o.slot, path, err), "choose a free keyslot, or leave out --key-slot")
	case err != nil:
		return fmt.Errorf("failed to add a keyslot to %s: %w", path, err)
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Printf("Added the new passphrase to %s in keyslot %d.\n", path, got)
	return nil
}
