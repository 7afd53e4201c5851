package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLuksRepairCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "repair DEVICE",
		Short: "Rewrite a damaged or stale LUKS2 header copy from the good one",
		Long: `When one of the two LUKS2 header copies of DEVICE is damaged or out of date
(see ` + "`travelkit luks dump`" + `), rewrite it from the valid one, like cryptsetup
repair. Nothing is done when both copies are valid and in sync. When both are
damaged, nothing can be repaired.`,
		Example: `  travelkit luks dump kit.luks      # "Header copies: primary DAMAGED ..."
  travelkit luks repair kit.luks`,
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
