package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/repo"
)

type forgetOptions struct {
	repoFlags
	policy repo.ForgetPolicy
	prune  bool
	dryRun bool
}

func newForgetCmd() *cobra.Command {
	var o forgetOptions
	c := &cobra.Command{
		Use:  "forget (--target T ... | --repo LOCATION --password-file F) [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--prune]",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runForget(c, &o))
		},
	}
	o.register(c)
	f := c.Flags()
	f.IntVar(&o.policy.Last, "keep-last", 0, "")
	f.IntVar(&o.policy.Daily, "keep-daily", 0, "")
	f.IntVar(&o.policy.Weekly, "keep-weekly", 0, "")
	f.IntVar(&o.policy.Monthly, "keep-monthly", 0, "")
	f.BoolVar(&o.prune, "prune", false, "")
	f.BoolVar(&o.dryRun, "dry-run", false, "")
	return c
}

func runForget(c *cobra.Command, o *forgetOptions) error {
	if o.policy.Empty() && !o.prune {
		return usageErrorT("cli.forget.what")
	}
	ctx, cancel := signalContext()
	defer cancel()
	r, err := o.open(ctx)
	if err != nil {
		return err
	}
	l, err := lockRepo(ctx, r, true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	out := c.OutOrStdout()
	if !o.policy.Empty() {
		groups, err := r.Forget(ctx, o.policy, o.dryRun)
		if err != nil {
			return err
		}
		for _, g := range groups {
			fmt.Fprintln(out, tr.T("cli.forget.group", termsafe.Name(g.Host), termsafe.Name(strings.Join(g.Paths, ", ")), len(g.Keep), len(g.Remove)))
			for _, sn := range g.Remove {
				fmt.Fprintln(out, "  "+tr.T("cli.forget.remove", sn.ID.Str(), sn.Time.Format("2006-01-02 15:04:05")))
			}
		}
	}
	if o.prune && !o.dryRun {
		st, err := r.Prune(ctx)
		if err != nil {
			return interrupted(ctx, err)
		}
		fmt.Fprintln(out, tr.T("cli.forget.prune", st.PacksDeleted, st.PacksRepacked, st.PacksKept, st.OrphanedPacks, bytesize.Format(st.BytesFreed)))
	}
	return nil
}
