package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLuksEraseCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:  "erase DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksErase(args[0], yes) },
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "")
	return cmd
}

func runLuksErase(path string, yes bool) error {
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if !yes {
		if err := confirm(tr.T("cli.luks.erase.confirm", path, c.UUID()), "--yes"); err != nil {
			return err
		}
	}
	if err := c.Erase(); err != nil {
		return wrapT(err, "cli.luks.erase.failed", path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.erase.done", path))
	return nil
}
