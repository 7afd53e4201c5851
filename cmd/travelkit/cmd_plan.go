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
	c.Flags().StringVar(&f.profile, "profile", "", "kit profile `file` (TOML); \"default\" or empty: the built-in demo profile")
	c.Flags().StringVar(&f.target, "target", "", "image `file` (created sparse when absent, with --size) or a whole disk")
	c.Flags().StringVar(&f.size, "size", "", "size of a new image file: bytes or a unit (512MiB, 64GiB, 2TB)")
	c.Flags().StringVar(&f.binaries, "binaries", "", "`folder` with the travelkit binaries for every platform (default: the folder of this program, then ./dist)")
	c.Flags().StringVar(&f.bootDir, "boot", "", "boot bundle `folder` (make bootenv's dist/bootenv, or a kit's tools partition; default: beside the binaries)")
	c.Flags().BoolVar(&f.allowFixed, "allow-fixed", false, "allow a non-removable disk, or one above 2 TB")
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
		Use:   "plan --profile P --target T [--size SIZE]",
		Short: "Show what building a kit would do, changing nothing",
		Long: `Show the plan for a kit: the disk and what is on it now, the partition layout and
sizes, the encryption and its keyslots, the escrow colleagues, every file that goes on
the tools partition, and what will be destroyed. Nothing is written.

` + "`travelkit build`" + ` shows the same plan and asks before writing.`,
		Example: `  travelkit plan --profile amina.toml --target /dev/sdb
  travelkit plan --target kit.img --size 8GiB            # the built-in demo profile`,
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
