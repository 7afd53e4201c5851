package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

type headerRestoreOptions struct {
	file, passFile, target string
	force, yes             bool
}

func newLuksHeaderRestoreCmd() *cobra.Command {
	var o headerRestoreOptions
	cmd := &cobra.Command{
		Use:  "header-restore (DEVICE | --target KIT) --file F [--passphrase-file P] [--force] [--yes]",
		Args: deviceOrTarget(&o.target),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksHeaderRestore(args, &o) },
	}
	cmd.Flags().StringVar(&o.target, "target", "", "")
	cmd.Flags().StringVar(&o.file, "file", "", "")
	cmd.Flags().StringVar(&o.passFile, "passphrase-file", "", "")
	cmd.Flags().BoolVar(&o.force, "force", false, "")
	cmd.Flags().BoolVar(&o.yes, "yes", false, "")
	return cmd
}

// maxHeaderBackupFile bounds the backup file read (LUKS2's largest header area).
const maxHeaderBackupFile = 2*(4<<20) + 128<<20

func runLuksHeaderRestore(args []string, o *headerRestoreOptions) error {
	if o.file == "" {
		return usageErrorf("give --file F: the header backup to restore")
	}
	f, err := os.Open(o.file)
	if err != nil {
		return usageErrorf("header backup: %v", err)
	}
	backup, err := io.ReadAll(io.LimitReader(f, maxHeaderBackupFile+1))
	f.Close()
	if err != nil {
		return err
	}
	if len(backup) > maxHeaderBackupFile {
		return withCode(ExitNotLUKS, fmt.Errorf("%s is larger than any LUKS2 header backup", o.file), "")
	}
	if _, err := luks.OpenHeaderBackup(backup); err != nil {
		return withCode(ExitNotLUKS, fmt.Errorf("backup file %s does not contain a valid LUKS2 header: %w", o.file, err), "")
	}
	var pass []byte
	if o.passFile != "" {
		if pass, err = readSecretFile(o.passFile, "passphrase file"); err != nil {
			return err
		}
		defer clear(pass)
	}
	hd, err := openHeaderDevice(args, o.target, true)
	if err != nil {
		return err
	}
	defer hd.close()
	path := hd.name
	if !o.yes {
		q := fmt.Sprintf("%s does not contain a LUKS2 header: replacing its header can destroy data on it.", path)
		if hasLUKSMagic(hd.dev) {
			q = fmt.Sprintf("%s already contains a LUKS2 header: replacing it destroys its current keyslots.", path)
		}
		if err := confirm(q, "--yes"); err != nil {
			return err
		}
	}
	rep, err := luks.RestoreHeader(hd.dev, hd.size, backup, luks.RestoreOptions{Passphrase: pass, Force: o.force})
	switch {
	case errors.Is(err, luks.ErrVolumeKeyDiffers), errors.Is(err, luks.ErrCannotCompare):
		hint := "this backup belongs to another volume; --force restores it anyway"
		if errors.Is(err, luks.ErrCannotCompare) {
			hint = "give --passphrase-file to compare the volume keys, or --force to restore anyway"
		}
		return withCode(ExitRefused, fmt.Errorf("%s: %w", path, err), hint)
	case err != nil:
		return fmt.Errorf("restoring the header of %s: %w", path, err)
	}
	if err := hd.close(); err != nil {
		return err
	}
	fmt.Printf("Header restored on %s from %s (UUID %s, %d bytes).\n", path, o.file, rep.BackupUUID, rep.Written)
	if rep.UUIDDiffers {
		fmt.Printf("warning: the device's header had another UUID (%s).\n", rep.DeviceUUID)
	}
	if rep.How != "" {
		fmt.Printf("Volume key: %s.\n", rep.How)
	}
	return nil
}
