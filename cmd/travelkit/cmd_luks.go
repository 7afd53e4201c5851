package main

import "github.com/spf13/cobra"

func newLuksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "luks",
		Short: "Manage LUKS2 volumes and their keys, like cryptsetup, on every OS",
		Long: `Create LUKS2 volumes, manage their passphrases and tokens, and read or write
their decrypted payload, in userspace: no root, dm-crypt or cryptsetup needed.
Volumes are byte-compatible with cryptsetup 2.x, so the same container works with
both tools. DEVICE is a LUKS2 container file or a block device; KIT:2 is the
LUKS partition of a kit image or disk (on every OS, also where partitions have no
path of their own, as on Windows), and --target KIT says the same.

Passphrase files (--passphrase-file) are used byte for byte, exactly as cryptsetup's
--key-file: a trailing newline is part of the passphrase. Without a file, travelkit
asks on the terminal without echo.`,
		Example: `  travelkit luks format kit.luks --size 64M --passphrase-file pass.txt
  travelkit luks dump kit.luks
  travelkit luks dump --target kit.img          # a kit's LUKS partition (kit.img:2)
  travelkit luks add-key \\.\PhysicalDrive1:2 --passphrase-file pass.txt --new-passphrase-file recovery.txt
  travelkit luks add-key kit.luks --passphrase-file pass.txt --new-passphrase-file recovery.txt
  echo hello | travelkit luks write kit.luks --passphrase-file pass.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	// One file per subcommand: cmd_luks_<name>.go.
	cmd.AddCommand(
		newLuksFormatCmd(), newLuksDumpCmd(), newLuksTestPassphraseCmd(), newLuksAddKeyCmd(), newLuksChangeKeyCmd(),
		newLuksKillSlotCmd(), newLuksDumpVolumeKeyCmd(), newLuksReadCmd(), newLuksWriteCmd(), newLuksTokenCmd(),
		newLuksRepairCmd(), newLuksEraseCmd(), newLuksHeaderBackupCmd(), newLuksHeaderRestoreCmd(),
	)
	for _, sub := range cmd.Commands() {
		addTargetFlag(sub)
	}
	return cmd
}
