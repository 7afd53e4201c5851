package main

import "github.com/spf13/cobra"

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Change a kit's passphrase, recovery key and escrow, keeping its backups",
		Long: `Change the keys of a kit over its life, without rebuilding it and without touching its
backups: a passphrase that must change, a colleague who leaves, a key that leaked.

Every change rewrites the LUKS2 header backups (escrow/luks-header.age and
luks-header.age), the escrow files, manifest.json, SHA256SUMS and the trusted copy inside
the volume. The steps are ordered so that an interruption at any point leaves a kit that
opens with the old secrets or with the new ones; ` + "`travelkit refresh`" + ` completes the
tools partition of an interrupted change.`,
		Example: `  travelkit keys passphrase --target /dev/sdb
  travelkit keys rotate-recovery --target /dev/sdb --recovery-key-file amina.recovery.new --escrow-dir handover/
  travelkit keys escrow --target /dev/sdb --profile amina.toml --escrow-dir handover/ --recovery-key-file amina.recovery.new`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	// One file per subcommand: cmd_keys_<name>.go.
	cmd.AddCommand(newKeysPassphraseCmd(), newKeysRotateRecoveryCmd(), newKeysEscrowCmd())
	return cmd
}
