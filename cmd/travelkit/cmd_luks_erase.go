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
		if err := confirm(fmt.Sprintf("erasing %s (UUID %s) destroys every keyslot; its data can never be decrypted again.", path, c.UUID()), "--yes"); err != nil {
			return err
		}
	}
	if err := c.Erase(); err != nil {
		return fmt.Errorf("failed to erase %s: %w", path, err)
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Printf("Erased every keyslot of %s; its data is unrecoverable.\n", path)
	return nil
}
