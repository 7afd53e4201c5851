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
		Use:  "test-passphrase DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksTestPassphrase(&o, args) },
	}
	cmd.Flags().StringVar(&o.passFile, "passphrase-file", "", "")
	cmd.Flags().IntVar(&o.slot, "key-slot", -1, "")
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
