package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
	"travelkit/repo"
)

type checkOptions struct {
	repoFlags
	readData bool
	subset   string
}

func newCheckCmd() *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:  "check (--target T ... | --repo LOCATION --password-file F) [--read-data | --read-data-subset N%]",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runCheck(c, &o))
		},
	}
	o.register(c)
	c.Flags().BoolVar(&o.readData, "read-data", false, "")
	c.Flags().StringVar(&o.subset, "read-data-subset", "", "")
	return c
}

func parsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || !strings.HasSuffix(s, "%") || v <= 0 || v > 100 {
		return 0, usageErrorT("cli.more.subset_bad", s)
	}
	return v, nil
}

func runCheck(c *cobra.Command, o *checkOptions) error {
	var pct float64
	if o.subset != "" {
		if o.readData {
			return usageErrorT("cli.more.read_data_both")
		}
		var err error
		if pct, err = parsePercent(o.subset); err != nil {
			return err
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	limitMemory()
	st, err := o.storageAs(true)
	if err != nil {
		return err
	}
	pw, err := o.password()
	if err != nil {
		return err
	}
	r, err, kitErr := o.openRepo(ctx, &st, &pw)
	clear(pw)
	if kitErr != nil {
		return kitErr
	}
	if err != nil {
		return repoError(err, o.repo)
	}
	l, err := lockRepo(ctx, r, false)
	if err != nil {
		return err
	}
	defer l.Unlock()
	term := stderrIsTerminal()
	res, err := r.Check(ctx, repo.CheckOptions{ReadData: o.readData, ReadDataPercent: pct,
		Progress: func(done, total int) {
			if term {
				fmt.Fprint(os.Stderr, "\r"+tr.T("cli.check.progress", done, total))
			}
		}})
	if term && (o.readData || pct > 0) {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return interrupted(ctx, err)
	}
	out := c.OutOrStdout()
	if res.PacksRead > 0 {
		fmt.Fprintln(out, tr.T("cli.check.checked_read", res.Snapshots, res.Trees, res.Packs, res.PacksRead))
	} else {
		fmt.Fprintln(out, tr.T("cli.check.checked", res.Snapshots, res.Trees, res.Packs))
	}
	if len(res.Orphaned) > 0 {
		fmt.Fprintln(out, tr.T("cli.check.orphaned", len(res.Orphaned)))
	}
	for _, e := range res.Errors {
		fmt.Fprintln(out, tr.T("cli.check.error", termsafe.Name(e.Error()))) // paths come from the repository
	}
	if !res.OK() {
		hint := tr.T("cli.check.hint")
		if len(res.DamagedPack) > 0 {
			var ids []string
			for _, id := range res.DamagedPack {
				ids = append(ids, id.String())
			}
			hint = tr.T("cli.check.damaged", strings.Join(ids, ", "))
		}
		return withCode(ExitVerifyFail, errorT("cli.check.errors", len(res.Errors)), hint)
	}
	fmt.Fprintln(out, tr.T("cli.check.ok"))
	return nil
}
