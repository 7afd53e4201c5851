package main

import "github.com/spf13/cobra"

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:  "keys",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	// One file per subcommand: cmd_keys_<name>.go.
	cmd.AddCommand(newKeysPassphraseCmd(), newKeysRotateRecoveryCmd(), newKeysEscrowCmd())
	return cmd
}
