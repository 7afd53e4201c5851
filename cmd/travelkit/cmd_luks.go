package main

import "github.com/spf13/cobra"

func init() { register(newLuksCmd) }

// luksSubcommands is filled by one file per `travelkit luks` subcommand.
var luksSubcommands []func() *cobra.Command

func registerLuks(f func() *cobra.Command) { luksSubcommands = append(luksSubcommands, f) }

func newLuksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "luks",
		Short: "Manage LUKS2 volumes and their keys, like cryptsetup, on every OS",
		Long: `Create LUKS2 volumes, manage their passphrases and tokens, and read or write
their decrypted payload, in userspace: no root, dm-crypt or cryptsetup needed.
Volumes are byte-compatible with cryptsetup 2.x, so the same container works with
both tools. DEVICE is a LUKS2 container file or a block device.

Passphrase files (--passphrase-file) are used byte for byte, exactly as cryptsetup's
--key-file: a trailing newline is part of the passphrase. Without a file, travelkit
asks on the terminal without echo.`,
		Example: `  travelkit luks format kit.luks --size 64M --passphrase-file pass.txt
  travelkit luks dump kit.luks
  travelkit luks add-key kit.luks --passphrase-file pass.txt --new-passphrase-file recovery.txt
  echo hello | travelkit luks write kit.luks --passphrase-file pass.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	for _, add := range luksSubcommands {
		cmd.AddCommand(add())
	}
	return cmd
}
