package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/bootenv"
	"travelkit/i18n"
	"travelkit/internal/memlimit"
	"travelkit/internal/version"
	"travelkit/wizard"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "travelkit",
		Short: "Build, unlock and restore encrypted travel kits on a USB drive",
		Long: `travelkit turns a USB drive into a secure travel kit: a FAT32 tools partition
visible on every OS and a LUKS2-encrypted data volume, with encrypted incremental
backups (restic format) and restore on a fresh Windows, macOS or Linux machine.

Everything it writes is a standard format (GPT, FAT32, LUKS2, ext4, restic, age),
readable with stock tools. It runs in userspace: no root needed for image files.

` + exitCodesHelp,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("travelkit {{.Version}}\n")
	root.PersistentFlags().String("lang", "", "the `language` of messages: en, es, fr, ar, ru, fa (default: LANGUAGE, LC_ALL, LC_MESSAGES, LANG, then the system's)")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if l, _ := c.Flags().GetString("lang"); l != "" {
			if _, ok := i18n.Match(l); !ok {
				return usageErrorT("cli.usage.lang", l, strings.Join(i18n.Languages(), ", "))
			}
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorT("cli.usage.flag", err.Error(), c.CommandPath())
	})
	// One file per command: cmd_<name>.go holds new<Name>Cmd and run<Name>.
	root.AddCommand(
		newPlanCmd(), newBuildCmd(), newVerifyCmd(), newFilesCmd(), newProfileCmd(), newDemoCmd(),
		newInitCmd(), newBackupCmd(), newSnapshotsCmd(), newLsCmd(), newRestoreCmd(), newCheckCmd(), newForgetCmd(), newUnlockCmd(),
		newRemoteCmd(), newCopyCmd(),
		newTPMCmd(), newLuksCmd(), newBenchmarkCmd(),
		newKeysCmd(), newRecoverCmd(), newEraseCmd(), newRefreshCmd(), newRegisterCmd(),
		newWizardCmd(),
	)
	return root
}

func main() {
	if os.Getpid() == 1 {
		// /init of the kit's initramfs: the boot menu (package bootenv).
		os.Exit(bootenv.Main())
	}
	if p := os.Getenv("TRAVELKIT_MEMPROFILE"); p != "" {
		startMemProfile(p)
	}
	// TRAVELKIT_CPUPROFILE=FILE writes a CPU profile of the command, with the
	// backup pipeline's stages as labels (go tool pprof -tags FILE)
	if p := os.Getenv("TRAVELKIT_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			code := run(os.Args[1:])
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	memlimit.Set()
	// cobra on Windows ends a program started from Explorer with "This is a command line
	// tool"; travelkit opens the wizard instead
	cobra.MousetrapHelpText = ""
	if len(args) == 0 && wizard.StartedFromFileManager() {
		// a double-click: the person gets the wizard, not the help of a command-line tool
		args = []string{"wizard"}
	}
	setLanguage(args)
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	code := exitCodeOf(err)
	// Errors may carry names from a drive or a repository: escaped, newlines kept.
	fmt.Fprintln(os.Stderr, tr.T("cli.error", prose(describeError(err))))
	if h := hintIn(err, tr); h != "" {
		fmt.Fprintln(os.Stderr, tr.T("cli.hint", prose(h)))
	}
	return code
}
