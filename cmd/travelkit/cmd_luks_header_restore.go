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
		return usageErrorT("cli.luks.header.restore_file")
	}
	f, err := os.Open(o.file)
	if err != nil {
		return usageErrorT("cli.luks.header.open", describeError(err))
	}
	backup, err := io.ReadAll(io.LimitReader(f, maxHeaderBackupFile+1))
	f.Close()
	if err != nil {
		return err
	}
	if len(backup) > maxHeaderBackupFile {
		return withCode(ExitNotLUKS, errorT("cli.luks.header.too_large", o.file), "")
	}
	if _, err := luks.OpenHeaderBackup(backup); err != nil {
		return withCode(ExitNotLUKS, wrapT(err, "cli.luks.header.invalid", o.file, describeError(err)), "")
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
		q := tr.T("cli.luks.header.confirm_other", path)
		if hasLUKSMagic(hd.dev) {
			q = tr.T("cli.luks.header.confirm_luks", path)
		}
		if err := confirm(q, "--yes"); err != nil {
			return err
		}
	}
	rep, err := luks.RestoreHeader(hd.dev, hd.size, backup, luks.RestoreOptions{Passphrase: pass, Force: o.force})
	switch {
	case errors.Is(err, luks.ErrVolumeKeyDiffers), errors.Is(err, luks.ErrCannotCompare):
		hint := "cli.luks.header.other_volume_hint"
		if errors.Is(err, luks.ErrCannotCompare) {
			hint = "cli.luks.header.cannot_compare_hint"
		}
		return withCodeT(ExitRefused, wrapT(err, "cli.luks.at", path, describeError(err)), hint)
	case err != nil:
		return wrapT(err, "cli.luks.header.restore_failed", path, describeError(err))
	}
	if err := hd.close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.header.restore_done", path, o.file, rep.BackupUUID, num(int64(rep.Written))))
	if rep.UUIDDiffers {
		fmt.Println(tr.T("cli.luks.header.other_uuid", rep.DeviceUUID))
	}
	if rep.How != "" {
		fmt.Println(tr.T("cli.luks.header.how", rep.How))
	}
	return nil
}
