package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
	"travelkit/repo"
)

type snapshotsOptions struct {
	repoFlags
	json bool
}

func newSnapshotsCmd() *cobra.Command {
	var o snapshotsOptions
	c := &cobra.Command{
		Use:  "snapshots (--target T ... | --repo LOCATION --password-file F)",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runSnapshots(c, &o))
		},
	}
	o.register(c)
	c.Flags().BoolVar(&o.json, "json", false, "")
	return c
}

// snapshotJSON is a snapshot as restic prints it: its fields plus id and short_id.
type snapshotJSON struct {
	*repo.Snapshot
	ID      string `json:"id"`
	ShortID string `json:"short_id"`
}

func runSnapshots(c *cobra.Command, o *snapshotsOptions) error {
	ctx, cancel := signalContext()
	defer cancel()
	r, err := o.open(ctx)
	if err != nil {
		return err
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return err
	}
	out := c.OutOrStdout()
	if o.json {
		list := make([]snapshotJSON, 0, len(sns))
		for _, sn := range sns {
			list = append(list, snapshotJSON{Snapshot: sn, ID: sn.ID.String(), ShortID: sn.ID.Str()})
		}
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(b))
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, tr.T("cli.snapshots.header"))
	for _, sn := range sns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sn.ID.Str(), sn.Time.Format("2006-01-02 15:04:05"),
			termsafe.Name(sn.Hostname), termsafe.Name(strings.Join(sn.Tags, ",")), termsafe.Name(strings.Join(sn.Paths, ", ")))
	}
	tw.Flush()
	fmt.Fprintln(out, tr.T("cli.snapshots.count", len(sns)))
	return nil
}
