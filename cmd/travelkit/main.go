package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"travelkit/bootenv"
	"travelkit/i18n"
	"travelkit/internal/memlimit"
	"travelkit/internal/version"
	"travelkit/wizard"
)

// newRootCmd is the command tree with its help texts in tr's language.
func newRootCmd() *cobra.Command {
	root := newCommandTree()
	localizeHelp(root, tr)
	return root
}

// newLazyHelpRootCmd is newRootCmd for a command that runs rather than shows help: the
// help texts (every command's, from the catalogue) are put in only if cobra shows help or
// usage after all (a command group without its subcommand, say), and the message
// catalogue, which the command's own output needs, is parsed meanwhile in the background
// (about 10 ms, beside a repository's key derivation).
func newLazyHelpRootCmd() *cobra.Command {
	root := newCommandTree()
	go tr.Has("cli.error")
	var once sync.Once
	localize := func() { once.Do(func() { localizeHelp(root, tr) }) }
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		localize()
		help(c, args)
	})
	root.SetUsageFunc(func(c *cobra.Command) error {
		localize()
		return writeUsage(c.OutOrStderr(), c, tr)
	})
	return root
}

// helpWanted reports whether args may show help texts at once: no command, a help flag,
// the help command, or shell completion (which prints the commands' descriptions).
func helpWanted(args []string) bool {
	if len(args) == 0 {
		return true
	}
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-h" || a == "--help" || strings.HasPrefix(a, "--help="),
			a == "help" || a == "completion" || strings.HasPrefix(a, "__complete"):
			return true
		}
	}
	return false
}

// newCommandTree is the command tree without its texts (help.go puts them in).
func newCommandTree() *cobra.Command {
	root := &cobra.Command{
		Use:           "travelkit",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("travelkit {{.Version}}\n")
	root.PersistentFlags().String("lang", "", "")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if l, _ := c.Flags().GetString("lang"); l != "" {
			if _, ok := i18n.Match(l); !ok {
				return usageErrorT("cli.usage.lang", l, strings.Join(i18n.Languages(), ", "))
			}
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		var what any = err.Error()
		if m := flagError(err); m != nil {
			what = *m // pflag's words, in the person's language
		}
		return usageErrorT("cli.usage.flag", what, c.CommandPath())
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
	// TRAVELKIT_TRACE=FILE writes an execution trace of the command (go tool trace
	// FILE): which goroutines ran when, to find the serial parts of a pipeline
	if p := os.Getenv("TRAVELKIT_TRACE"); p != "" {
		if f, err := os.Create(p); err == nil && trace.Start(f) == nil {
			code := run(os.Args[1:])
			trace.Stop()
			f.Close()
			os.Exit(code)
		}
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
	var root *cobra.Command
	if helpWanted(args) {
		root = newRootCmd()
	} else {
		root = newLazyHelpRootCmd()
	}
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	code := exitCodeOf(err)
	err = cobraError(err)
	// Errors may carry names from a drive or a repository: escaped, newlines kept.
	fmt.Fprintln(os.Stderr, tr.T("cli.error", prose(describeError(err))))
	if h := hintIn(err, tr); h != "" {
		fmt.Fprintln(os.Stderr, tr.T("cli.hint", prose(h)))
	}
	return code
}
