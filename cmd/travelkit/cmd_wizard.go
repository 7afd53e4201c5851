package main

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/internal/version"
	"travelkit/repo"
	"travelkit/wizard"
)

type wizardOptions struct {
	target    string
	noBrowser bool
	allowWeak bool
	// set by the unprivileged copy when it relaunches travelkit with administrator rights
	handoff string
	home    string
	owner   string
}

func newWizardCmd() *cobra.Command {
	var o wizardOptions
	c := &cobra.Command{
		Use:  "wizard",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runWizard(c, &o) },
	}
	f := c.Flags()
	f.StringVar(&o.target, "target", "", "")
	f.BoolVar(&o.noBrowser, "no-browser", false, "")
	f.BoolVar(&o.allowWeak, "allow-weak-passphrase", false, "")
	f.StringVar(&o.handoff, "handoff", "", "the relaunched copy's hand-over `folder` (set by the wizard itself)")
	f.StringVar(&o.home, "home", "", "the person's home `folder` (set by the wizard itself)")
	f.StringVar(&o.owner, "owner", "", "the person's `uid:gid` (set by the wizard itself)")
	for _, h := range []string{"handoff", "home", "owner"} {
		f.MarkHidden(h)
	}
	return c
}

func runWizard(c *cobra.Command, o *wizardOptions) error {
	opt := wizard.Options{
		Lang: tr.Lang(), Target: o.target, NoBrowser: o.noBrowser || o.handoff != "",
		Out: c.OutOrStdout(), Home: o.home, Handoff: o.handoff, AllowWeak: o.allowWeak, Version: version.Version,
	}
	if o.owner != "" {
		u, g, ok := strings.Cut(o.owner, ":")
		uid, err1 := strconv.Atoi(u)
		gid, err2 := strconv.Atoi(g)
		if !ok || err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			return usageErrorT("cli.more.owner_bad", o.owner)
		}
		opt.Owner = &repo.Owner{UID: uid, GID: gid}
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := wizard.Run(ctx, opt); err != nil {
		return causeT(err, "cli.more.wizard_failed")
	}
	return nil
}
