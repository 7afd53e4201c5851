package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/luks"
)

func newLuksHeaderBackupCmd() *cobra.Command {
	var file, kitTarget string
	cmd := &cobra.Command{
		Use:  "header-backup (DEVICE | --target KIT) --file F",
		Args: deviceOrTarget(&kitTarget),
		RunE: func(cmd *cobra.Command, args []string) error {
			hd, err := openHeaderDevice(args, kitTarget, false)
			if err != nil {
				return err
			}
			defer hd.close()
			return runLuksHeaderBackup(hd, file)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "")
	cmd.Flags().StringVar(&kitTarget, "target", "", "")
	return cmd
}

func runLuksHeaderBackup(hd *headerDevice, file string) error {
	if file == "" {
		return usageErrorT("cli.luks.header.backup_file")
	}
	path := hd.name
	c, err := luks.Open(hd.dev, hd.size)
	if err != nil {
		return containerError(path, hd.size, err)
	}
	b, err := c.HeaderBackup()
	if err != nil {
		return wrapT(err, "cli.luks.at", path, describeError(err))
	}
	defer clear(b)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return withCodeT(ExitRefused, errorT("cli.luks.header.exists", file), "cli.luks.exists_hint")
		}
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(file)
		return wrapT(err, "cli.luks.header.write_failed", file, describeError(err))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println(tr.T("cli.luks.header.backup_done", path, c.UUID(), num(int64(len(b))), file))
	return nil
}

// headerDevice is DEVICE, or the LUKS2 partition of --target KIT.
type headerDevice struct {
	dev   luks.Device
	size  int64
	name  string
	close func() error
}

// deviceOrTarget accepts DEVICE or --target KIT, not both.
func deviceOrTarget(kitTarget *string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case *kitTarget != "" && len(args) > 0:
			return usageErrorT("cli.luks.header.both")
		case *kitTarget == "" && len(args) != 1:
			return usageErrorT("cli.luks.header.neither", cmd.CommandPath())
		}
		return nil
	}
}

func openHeaderDevice(args []string, kitTarget string, write bool) (*headerDevice, error) {
	if kitTarget != "" {
		o, err := openKit(kitTarget, write)
		if err != nil {
			return nil, err
		}
		return &headerDevice{dev: o.d.Data, size: o.d.Data.Size(), name: kitTarget + " (LUKS2 partition)", close: o.Close}, nil
	}
	d, err := openDevice(args[0], write)
	if err != nil {
		return nil, err
	}
	return &headerDevice{dev: d, size: d.size, name: args[0], close: d.Close}, nil
}
