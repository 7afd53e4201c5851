package main

import (
	"github.com/spf13/cobra"

	"travelkit/register"
)

func newKeysEscrowCmd() *cobra.Command {
	o := keysRotateOptions{event: register.Escrow}
	c := &cobra.Command{
		Use:   "escrow --target T --profile P [--escrow-dir DIR]",
		Short: "Apply the profile's escrow list and threshold to a kit (rotates the recovery key)",
		Long: `Apply the [[escrow]] list and [keys] escrow_threshold of a profile to a kit: a colleague
added, one removed, a new threshold. Escrow changes always rotate the recovery key: a
colleague removed from the list still holds the old key or share, so the old key must stop
opening the kit. This is travelkit keys rotate-recovery with the profile's escrow.`,
		Example: `  travelkit keys escrow --target /dev/sdb --profile amina.toml --escrow-dir handover/ --recovery-key-file amina.recovery.new`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.profile == "" {
				return usageErrorT("cli.keys.escrow_profile")
			}
			return runKeysRotate(&o)
		},
	}
	o.registerFlags(c.Flags())
	c.Flags().StringVar(&o.profile, "profile", "", "the profile `file` whose [[escrow]] list and [keys] escrow_threshold to apply")
	return c
}
