package main

import "github.com/spf13/cobra"

func newLuksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:  "luks",
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
