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
		return usageErrorf("give --file F: where to write the header backup")
	}
	path := hd.name
	c, err := luks.Open(hd.dev, hd.size)
	if err != nil {
		return containerError(path, hd.size, err)
	}
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
			return usageErrorf("give DEVICE or --target KIT, not both")
		case *kitTarget == "" && len(args) != 1:
			return usageErrorf("give DEVICE (a LUKS2 container file or partition) or --target KIT (see `%s --help`)", cmd.CommandPath())
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
