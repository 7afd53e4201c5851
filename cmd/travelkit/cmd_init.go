package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"travelkit/repo"
)

type initOptions struct {
	repoFlags
}

func newInitCmd() *cobra.Command {
	var o initOptions
	c := &cobra.Command{
		Use:  "init --repo LOCATION --password-file F",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runInit(c, &o))
		},
	}
	o.register(c)
	return c
}

func runInit(c *cobra.Command, o *initOptions) error {
	ctx, cancel := signalContext()
	defer cancel()
	st, err := o.storage()
	if err != nil {
		return err
	}
	pw, err := o.password()
	if err != nil {
		return err
	}
	defer clear(pw)
	r, err := repo.Init(ctx, st, pw)
	if err != nil {
		return fmt.Errorf("%s: %w", o.where(), err)
	}
	fmt.Fprintln(c.OutOrStdout(), tr.T("cli.init.created", r.Config().ID[:10], o.where()))
	return nil
}
