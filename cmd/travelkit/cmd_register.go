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
		return usageErrorf("--due: %v", err)
	}
	events, problems, err := register.ReadFile(path)
	if err != nil {
		return fmt.Errorf("register %s: %w", path, err)
	}
	for _, p := range problems {
		fmt.Fprintf(os.Stderr, "travelkit: warning: %s: %v (skipped)\n", path, p)
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
		fmt.Printf("%d kit(s) in %s; none due for renewal (period %s).\n", len(kits), path, period)
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "KIT\tLUKS UUID\tLAST EVENT\tTOOLS\tRECOVERY KEY\tESCROW\tDUE")
	for _, k := range list {
		e := k.Last
		due := []string{}
		if k.KeysDue {
			due = append(due, "keys")
		}
		if k.ToolsDue {
			due = append(due, "tools")
		}
		if k.Erased {
			due = append(due, "erased")
		}
		rot := "-"
		if !e.RecoveryKeyRotated.IsZero() {
			rot = e.RecoveryKeyRotated.Format("2006-01-02")
		}
		esc := "-"
		if len(e.Escrow) > 0 {
			esc = fmt.Sprintf("%d of %d", max(e.Threshold, 1), len(e.Escrow))
		}
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", termsafe.Name(e.KitID), shortUUID(e.LUKSUUID), e.Event, e.Date.Format("2006-01-02"),
			termsafe.Name(e.Version), rot, esc, strings.Join(due, ", "))
	}
	w.Flush()
	for _, k := range list {
		for _, r := range k.Reasons {
			fmt.Printf("  %s: %s\n", termsafe.Name(k.Last.KitID), termsafe.Text(r))
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
