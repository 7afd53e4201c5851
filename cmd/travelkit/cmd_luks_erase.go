package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLuksEraseCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "erase DEVICE",
		Short: "Destroy every keyslot: the data becomes unrecoverable, at once",
		Long: `Overwrite every keyslot of DEVICE, like cryptsetup luksErase. Without the
keyslots, no passphrase can unlock the volume ever again: the data is gone for
good, in well under a second, even on a large drive. The header stays, so the
device still shows as LUKS2 (with no keyslots).

No passphrase is needed. It asks for confirmation unless --yes is given.`,
		Example: `  travelkit luks erase /dev/sdb2
  travelkit luks erase old-kit.luks --yes`,
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksErase(args[0], yes) },
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
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
