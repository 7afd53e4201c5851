package main

import (
	"github.com/spf13/cobra"

	"travelkit/register"
)

func newKeysEscrowCmd() *cobra.Command {
	o := keysRotateOptions{event: register.Escrow}
	c := &cobra.Command{
		Use:  "escrow --target T --profile P [--escrow-dir DIR]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.profile == "" {
				return usageErrorT("cli.keys.escrow_profile")
			}
			return runKeysRotate(&o)
		},
	}
	o.registerFlags(c.Flags())
	c.Flags().StringVar(&o.profile, "profile", "", "")
	return c
}
