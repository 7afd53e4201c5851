package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/builder"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/internal/version"
	"travelkit/register"
)

type refreshOptions struct {
	kit          kitFlags
	binaries     []string
	bootDir      string
	profile      string
	escrowDir    string
	registerFile string
	yes, json    bool
}

func newRefreshCmd() *cobra.Command {
	var o refreshOptions
	c := &cobra.Command{
		Use:  "refresh --target T [--binaries DIR] [--boot DIR] [--profile P] [--yes]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRefresh(&o) },
	}
	o.kit.register(c.Flags())
	c.Flags().StringArrayVar(&o.binaries, "binaries", nil, "")
	c.Flags().StringVar(&o.bootDir, "boot", "", "")
	c.Flags().StringVar(&o.profile, "profile", "", "")
	c.Flags().StringVar(&o.escrowDir, "escrow-dir", "", "")
	c.Flags().StringVar(&o.registerFile, "register", "", "")
	c.Flags().BoolVar(&o.yes, "yes", false, "")
	c.Flags().BoolVar(&o.json, "json", false, "")
	return c
}

func runRefresh(o *refreshOptions) error {
	prof, err := changeProfile(o.profile)
	if err != nil {
		return err
	}
	k, err := openWholeKit(o.kit.target)
	if err != nil {
		return err
	}
	defer k.Close()
	s, closeVol, err := changeSession(k, &o.kit)
	if err != nil {
		return err
	}
	defer closeVol()
	m := s.Manifest()
	if err := checkChangeProfile(prof, m, o.kit.target); err != nil {
		return err
	}
	if !o.yes {
		what := tr.T("cli.refresh.confirm", termsafe.Name(m.KitID), termsafe.Name(m.Version), version.Version)
		if s.Interrupted() {
			what = tr.T("cli.refresh.confirm_complete", termsafe.Name(m.KitID), version.Version)
		}
		if err := confirm(what, "--yes"); err != nil {
			return err
		}
	}
	prog, done := stageProgress()
	s.Progress = prog
	var res *builderChange
	err = interruptible(func(ctx context.Context) error {
		r, err := s.Refresh(ctx, builder.RefreshOptions{BinaryDirs: o.binaries, Profile: prof, BootDir: o.bootDir, EscrowDir: o.escrowDir})
		res = r
		return err
	})
	done()
	var full *builder.ToolsFullError
	if errors.As(err, &full) {
		return toolsFull(o.kit.target, full)
	}
	if err != nil {
		return causeT(err, "cli.refresh.failed", o.kit.target)
	}
	if err := finishChange(closeVol, o.registerFile, register.Refresh, res); err != nil {
		return err
	}
	if o.json {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	printChange(tr.T("cli.refresh.done"), res, o.kit.target)
	fmt.Fprintln(os.Stderr, tr.T("cli.refresh.untouched"))
	return nil
}

// toolsFull says that a refresh's files do not fit on the kit's tools partition, and what
// to do, in the person's language (builder.ToolsFullError's Error and Hint are English).
func toolsFull(target string, e *builder.ToolsFullError) error {
	boot := ""
	hint := "cli.refresh.tools_full_hint"
	if e.Boot > 0 {
		boot = tr.T("cli.refresh.tools_full_boot", bytesize.FormatDecimal(e.Boot))
		hint = "cli.refresh.tools_full_boot_hint"
	}
	err := wrapT(e, "cli.refresh.tools_full", target, bytesize.FormatDecimal(e.Partition), bytesize.FormatDecimal(e.Files), boot, e.Err)
	return withCodeT(ExitNoSpace, err, hint, "--profile", "[tools] platforms", "[boot] enable = false", "travelkit build", "[drive] tools_size")
}
