package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/builder"
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
		Use:   "refresh --target T [--binaries DIR] [--boot DIR] [--profile P] [--yes]",
		Short: "Rewrite a kit's tools with this travelkit, keeping its backups",
		Long: `Rewrite the tools partition of a kit with the running version of travelkit: the
binaries for the kit's platforms (from --binaries, the folder of this program, then
./dist), the boot files, the RESTORE pages (languages and escrow from the manifest, or
from --profile), the escrow files and header backups (kept inside the
encrypted volume), manifest.json and SHA256SUMS, and the trusted copy inside the volume.
Unlocking is needed for that.

Boot files: a kit handed out without them becomes able to start a computer into its
restore and rescue menu, without repartitioning. The boot bundle is taken from --boot DIR,
else from beside the binaries (dist/bootenv, or the kit this program runs from), else a
bootable kit keeps its own bundle (checked against its trusted manifest) with a new
initramfs. A --profile's [boot] table applies: enable = false leaves the boot files out,
enable = true makes a missing bundle an error. Everything must fit on the tools partition;
when it does not, refresh stops before anything is written (exit 9).

The backup repository is never touched: its snapshots and ` + "`restic check --read-data`" + ` are
the same before and after. A refresh or key change that was interrupted is reported by
` + "`travelkit verify`" + ` as incomplete; refresh completes it (a rotation stopped before its new key
was recorded is undone; one stopped after is finished: the old keyslot removed). With
--escrow-dir it also writes the kit's escrow files and escrowed header backup for hand-over.`,
		Example: `  travelkit refresh --target /dev/sdb --binaries dist/
  travelkit refresh --target /dev/sdb --boot dist/bootenv
  travelkit refresh --target kit.img --passphrase-file pass.txt --profile amina.toml --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRefresh(&o) },
	}
	o.kit.register(c.Flags())
	c.Flags().StringArrayVar(&o.binaries, "binaries", nil, "take the per-platform binaries from `DIR` (make dist output, or a kit's bin/); repeatable")
	c.Flags().StringVar(&o.bootDir, "boot", "", "boot bundle `folder` (make bootenv's dist/bootenv, or a kit's tools partition; default: beside the binaries, else the kit's own)")
	c.Flags().StringVar(&o.profile, "profile", "", "take the languages and platforms from this profile `file` (default: the kit's manifest)")
	c.Flags().StringVar(&o.escrowDir, "escrow-dir", "", "also write the kit's escrow files and escrowed header backup into DIR, for hand-over (after an interrupted rotation)")
	c.Flags().StringVar(&o.registerFile, "register", "", "append the refresh to this register `file` (one JSON line, no secrets)")
	c.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
	c.Flags().BoolVar(&o.json, "json", false, "print a machine-readable summary on standard output")
	return c
}

func runRefresh(o *refreshOptions) error {
	var prof *builder.Config
	if o.profile != "" {
		p, err := loadProfile(o.profile)
		if err != nil {
			return err
		}
		cfg := builderConfig(p)
		prof = &cfg
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
	if prof != nil && prof.Name != m.KitID {
		return withCodeT(ExitRefused, errorT("cli.change.other_profile", termsafe.Name(prof.Name), o.kit.target, termsafe.Name(m.KitID)), "cli.change.other_profile_hint")
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
		return withCode(ExitNoSpace, causeT(err, "cli.refresh.failed", o.kit.target), full.Hint())
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
