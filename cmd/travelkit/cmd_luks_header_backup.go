package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newLuksHeaderBackupCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "header-backup DEVICE --file F",
		Short: "Save the LUKS2 header and keyslots to a file, like cryptsetup luksHeaderBackup",
		Long: `Write a binary backup of DEVICE's LUKS2 header and keyslot area (both header copies and
every keyslot: 16 MiB with the defaults) to a new file, byte for byte what
cryptsetup luksHeaderBackup writes: either tool restores it.

A header backup and a passphrase that was valid when it was made open the volume, even
after the passphrase was changed or the keyslots erased. Keep it as safe as the
passphrase (travelkit kits keep theirs encrypted with age: luks-header.age and
escrow/luks-header.age).`,
		Example: `  travelkit luks header-backup /dev/sdb2 --file sdb2.header
  travelkit luks header-backup kit.luks --file kit.header`,
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksHeaderBackup(args[0], file) },
	}
	cmd.Flags().StringVar(&file, "file", "", "the new backup `file` (never overwritten)")
	return cmd
}

func runLuksHeaderBackup(path, file string) error {
	if file == "" {
		return usageErrorf("give --file F: where to write the header backup")
	}
	d, c, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d.Close()
	b, err := c.HeaderBackup()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer clear(b)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return withCode(ExitRefused, fmt.Errorf("requested header backup file %s already exists", file), "choose a new file name")
		}
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(file)
		return fmt.Errorf("cannot write header backup file %s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("Header backup of %s (UUID %s, %d bytes) written to %s.\n", path, c.UUID(), len(b), file)
	return nil
}
