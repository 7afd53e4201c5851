package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

type luksDumpVolumeKeyOptions struct {
	passFile, vkFile string
}

func newLuksDumpVolumeKeyCmd() *cobra.Command {
	var o luksDumpVolumeKeyOptions
	cmd := &cobra.Command{
		Use:  "dump-volume-key DEVICE",
		Args: exactArgs("DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLuksDumpVolumeKey(&o, args) },
	}
	cmd.Flags().StringVar(&o.passFile, "passphrase-file", "", "")
	cmd.Flags().StringVar(&o.vkFile, "volume-key-file", "", "")
	return cmd
}

func runLuksDumpVolumeKey(o *luksDumpVolumeKeyOptions, args []string) error {
	path := args[0]
	if o.vkFile == "" {
		return usageErrorf("--volume-key-file is required: the volume key is never printed")
	}
	if _, err := os.Lstat(o.vkFile); err == nil {
		return withCode(ExitRefused, fmt.Errorf("%s already exists; refusing to overwrite it", o.vkFile), "choose a new file name")
	}
	d, c, err := openContainer(path, false)
	if err != nil {
		return err
	}
	defer d.Close()
	vk, _, err := unlock(d, c, o.passFile, -1)
	if err != nil {
		return err
	}
	defer vk.Wipe()
	f, err := os.OpenFile(o.vkFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return withCode(ExitRefused, fmt.Errorf("%s already exists; refusing to overwrite it", o.vkFile), "choose a new file name")
		}
		return fmt.Errorf("failed to create %s: %w", o.vkFile, unwrapPathErr(err))
	}
	_, err = f.Write(vk.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.vkFile)
		return fmt.Errorf("failed to write %s: %w", o.vkFile, err)
	}
	fmt.Printf("Wrote the %d-bit volume key of %s to %s.\n", len(vk.Bytes())*8, path, o.vkFile)
	return nil
}
