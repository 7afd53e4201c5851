package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLuksRepairCmd() *cobra.Command {
	return &cobra.Command{
		Use:  "repair DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksRepair(args[0]) },
	}
}

func runLuksRepair(path string) error {
	d, c, err := openContainer(path, true)
	if err != nil {
		return err
	}
	defer d.Close()
	st := c.State()
	if st.PrimaryErr == nil && st.SecondaryErr == nil && st.InSync {
		fmt.Println(tr.T("cli.luks.repair.fine", path))
		return nil
	}
	if err := c.Repair(); err != nil {
		return wrapT(err, "cli.luks.repair.failed", path, describeError(err))
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.repair.done", path, st.UsedCopy))
	return nil
}
