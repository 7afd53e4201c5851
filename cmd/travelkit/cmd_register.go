package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
	"travelkit/internal/version"
	"travelkit/register"
)

type registerOptions struct {
	due       string
	all, json bool
}

func newRegisterCmd() *cobra.Command {
	o := registerOptions{due: "12mo"}
	c := &cobra.Command{
		Use:  "register FILE [--due 12mo] [--json]",
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runRegister(&o, args[0]) },
	}
	c.Flags().StringVar(&o.due, "due", o.due, "")
	c.Flags().BoolVar(&o.all, "all", false, "")
	c.Flags().BoolVar(&o.json, "json", false, "")
	return c
}

func runRegister(o *registerOptions, path string) error {
	period, err := register.ParsePeriod(o.due)
	if err != nil {
		return usageErrorT("cli.register.due", err)
	}
	events, problems, err := register.ReadFile(path)
	if err != nil {
		return causeT(err, "cli.register.failed", path)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, tr.T("cli.warning", path, tr.T("cli.register.skipped", p)))
	}
	kits := register.Check(register.Kits(events), period, time.Now(), version.Version)
	list := kits
	if !o.all {
		list = register.Due(kits)
	}
	if o.json {
		if list == nil {
			list = []register.Kit{}
		}
		b, _ := json.MarshalIndent(list, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	if len(list) == 0 {
		fmt.Println(tr.T("cli.register.none_due", len(kits), path, period))
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, tr.T("cli.register.header"))
	for _, k := range list {
		e := k.Last
		due := []string{}
		if k.KeysDue {
			due = append(due, tr.T("cli.register.due_keys"))
		}
		if k.ToolsDue {
			due = append(due, tr.T("cli.register.due_tools"))
		}
		if k.Erased {
			due = append(due, tr.T("cli.register.erased"))
		}
		rot := "-"
		if !e.RecoveryKeyRotated.IsZero() {
			rot = e.RecoveryKeyRotated.Format("2006-01-02")
		}
		esc := "-"
		if len(e.Escrow) > 0 {
			esc = tr.T("cli.register.escrow", max(e.Threshold, 1), len(e.Escrow))
		}
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", termsafe.Name(e.KitID), shortUUID(e.LUKSUUID), e.Event, e.Date.Format("2006-01-02"),
			termsafe.Name(e.Version), rot, esc, strings.Join(due, ", "))
	}
	w.Flush()
	for _, k := range list {
		for _, r := range k.ReasonMessages {
			fmt.Printf("  %s: %s\n", termsafe.Name(k.Last.KitID), prose(r.In(tr)))
		}
	}
	return nil
}

func shortUUID(u string) string {
	if len(u) > 8 {
		return u[:8]
	}
	return u
}
