package main

import (
	"os"

	"github.com/spf13/cobra"

	"travelkit/builder"
	"travelkit/internal/bytesize"
	"travelkit/profile"
)

// planFlags are shared by plan and build.
type planFlags struct {
	profile    string
	target     string
	size       string
	binaries   string
	bootDir    string
	allowFixed bool
	loaded     *profile.Profile // the profile plan() read
}

func (f *planFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.profile, "profile", "", "")
	c.Flags().StringVar(&f.target, "target", "", "")
	c.Flags().StringVar(&f.size, "size", "", "")
	c.Flags().StringVar(&f.binaries, "binaries", "", "")
	c.Flags().StringVar(&f.bootDir, "boot", "", "")
	c.Flags().BoolVar(&f.allowFixed, "allow-fixed", false, "")
}

func (f *planFlags) plan() (*builder.Plan, error) {
	if f.target == "" {
		return nil, usageErrorT("cli.build.no_target")
	}
	p, err := loadProfile(f.profile)
	if err != nil {
		return nil, err
	}
	f.loaded = p
	var size int64
	if f.size != "" {
		if size, err = bytesize.Parse(f.size); err != nil {
			return nil, usageErrorT("cli.build.size", err)
		}
	}
	opt := builder.PlanOptions{Target: f.target, Size: size, AllowFixed: f.allowFixed, BootDir: f.bootDir}
	if f.binaries != "" {
		opt.BinaryDirs = []string{f.binaries}
	}
	plan, err := builder.MakePlan(builderConfig(p), opt)
	return plan, targetError(err)
}

func newPlanCmd() *cobra.Command {
	var f planFlags
	c := &cobra.Command{
		Use:  "plan --profile P --target T [--size SIZE]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPlan(&f) },
	}
	f.register(c)
	return c
}

func runPlan(f *planFlags) error {
	plan, err := f.plan()
	if err != nil {
		return err
	}
	plan.PrintIn(os.Stdout, tr)
	return nil
}
