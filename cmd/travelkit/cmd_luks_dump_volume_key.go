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
		return usageErrorT("cli.luks.vk.required")
	}
	if _, err := os.Lstat(o.vkFile); err == nil {
		return withCodeT(ExitRefused, errorT("cli.luks.exists", o.vkFile), "cli.luks.exists_hint")
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
			return withCodeT(ExitRefused, errorT("cli.luks.exists", o.vkFile), "cli.luks.exists_hint")
		}
		return wrapT(err, "cli.luks.create_failed", o.vkFile, describeError(unwrapPathErr(err)))
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
		return wrapT(err, "cli.luks.write_failed", o.vkFile, describeError(err))
	}
	fmt.Println(tr.T("cli.luks.vk.done", num(int64(len(vk.Bytes())*8)), path, o.vkFile))
	return nil
}
