package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
)

type unlockOptions struct {
	repoFlags
	removeAll bool
}

func newUnlockCmd() *cobra.Command {
	var o unlockOptions
	c := &cobra.Command{
		Use:  "unlock (--target T ... | --repo DIR --password-file F) [--remove-all]",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runUnlock(c, &o))
		},
	}
	o.register(c)
	c.Flags().BoolVar(&o.removeAll, "remove-all", false, "")
	return c
}

func runUnlock(c *cobra.Command, o *unlockOptions) error {
	ctx, cancel := signalContext()
	defer cancel()
	r, err := o.open(ctx)
	if err != nil {
		return err
	}
	removed, held, err := r.RemoveLocks(ctx, o.removeAll)
	if err != nil {
		return interrupted(ctx, err)
	}
	out := c.OutOrStdout()
	if removed == 0 {
		fmt.Fprintln(out, tr.T("cli.locks.none"))
	} else {
		fmt.Fprintln(out, tr.T("cli.locks.removed", removed))
	}
	for _, l := range held {
		if l.Host == "" {
			fmt.Fprintln(out, tr.T("cli.locks.unreadable", l.ID[:min(8, len(l.ID))]))
			continue
		}
		// the host name comes from the repository: escaped
		fmt.Fprintln(out, tr.T("cli.locks.held", l.ID[:min(8, len(l.ID))], strconv.Itoa(l.PID), termsafe.Name(l.Host), l.Time.Format("2006-01-02 15:04:05")))
	}
	return nil
}
