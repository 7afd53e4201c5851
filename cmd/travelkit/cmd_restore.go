package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/internal/beneath"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/repo"
)

type restoreOptions struct {
	repoFlags
	to         string
	include    []string
	verify     bool
	keepSetuid bool
	json       bool
}

func newRestoreCmd() *cobra.Command {
	var o restoreOptions
	c := &cobra.Command{
		Use:   "restore [--target T ... | --repo LOCATION --password-file F] SNAPSHOT|latest --to DIR",
		Short: "Restore a snapshot into a folder (paths are recreated below it)",
		Long: `Restore a snapshot below --to DIR: the backed-up paths are recreated under it
(DIR/home/amina/...). Files, modes, modification times and symlinks come back exactly;
--verify rereads every file; an existing file is never overwritten.

On a fresh computer, run travelkit from the kit's tools partition without --target: it
finds the kit drive by itself (or lists them when several are plugged in) and asks for
the passphrase or the recovery key; a colleague's escrow identity works with --identity.
Reading a disk needs administrator rights: on Linux and macOS put sudo in front, on
Windows open PowerShell as Administrator.

Without the kit, --repo LOCATION restores from the kit's off-site copy (travelkit copy):
a folder, sftp:, s3: or rest:, opened with the recovery key (--password-file
recovery-key.txt).`,
		Example: `  sudo /media/TRAVELKIT/bin/linux-amd64/travelkit restore latest --to ~/Restored
  E:\bin\windows-amd64\travelkit.exe restore latest --to C:\Restored
  travelkit restore --target kit.img --recovery-key-file rk latest --to /tmp/r --include /home/amina/docs
  travelkit restore --repo /mnt/copy --password-file repo.pw latest --to /tmp/r
  travelkit restore --repo sftp:kit@backup.example.org:/srv/kits/amina --password-file recovery-key.txt latest --to ~/Restored`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runRestore(c, &o, args[0]))
		},
	}
	o.register(c)
	f := c.Flags()
	f.StringVar(&o.to, "to", "", "restore below `DIR` (DIR/home/... for /home/...)")
	f.StringArrayVar(&o.include, "include", nil, "restore only `PATH` (as shown by ls) and what is below it (repeatable)")
	f.BoolVar(&o.verify, "verify", false, "reread every restored file and check it against the snapshot")
	f.BoolVar(&o.keepSetuid, "keep-setuid", false, "restore setuid and setgid bits too (dropped by default: a snapshot could plant a program that runs with its owner's rights)")
	f.BoolVar(&o.json, "json", false, "print progress as JSON lines")
	return c
}

func runRestore(c *cobra.Command, o *restoreOptions, which string) error {
	if o.to == "" {
		return usageErrorT("cli.restore.no_to")
	}
	ctx, cancel := signalContext()
	defer cancel()
	limitMemory()
	r, err := o.open(ctx)
	if err != nil {
		return err
	}
	l, err := lockRepo(ctx, r, false)
	if err != nil {
		return err
	}
	defer l.Unlock()
	sn, err := findSnapshot(ctx, r, which)
	if err != nil {
		return err
	}
	out := c.OutOrStdout()
	pp := &progressPrinter{out: out, json: o.json, terminal: stderrIsTerminal(), line: "cli.progress.restored"}
	failed, exists, devices := 0, 0, 0
	res, err := r.Restore(ctx, sn, repo.RestoreOptions{
		Target: o.to, Include: o.include, Verify: o.verify, KeepSetuid: o.keepSetuid,
		Warn: func(p string, err error) {
			if errors.Is(err, repo.ErrDevice) {
				// never restored, by design: counted, and named once at the end
				devices++
				return
			}
			if errors.Is(err, repo.ErrExists) {
				exists++
			}
			failed++
			if pp.terminal {
				fmt.Fprint(os.Stderr, "\r")
			}
			// names come from the snapshot: escaped before they reach the terminal
			fmt.Fprintln(os.Stderr, tr.T("cli.warning", termsafe.Name(p), prose(describeError(err))))
		},
		Progress: func(p repo.RestoreProgress) {
			pp.show(p.Elapsed, p.FilesDone, p.TotalFiles, p.BytesDone, p.TotalBytes, p.Done)
		},
	})
	if err != nil {
		return restoreError(interrupted(ctx, err))
	}
	if o.verify {
		fmt.Fprintln(out, tr.T("cli.restore.done_verified", sn.ID.Str(), res.Files, bytesize.Format(res.Bytes), res.Verified))
	} else {
		fmt.Fprintln(out, tr.T("cli.restore.done", sn.ID.Str(), res.Files, bytesize.Format(res.Bytes)))
	}
	if res.RenamedCount > 0 {
		fmt.Fprintln(out, tr.T("cli.restore.renamed", res.RenamedCount))
		for _, rn := range res.Renamed {
			fmt.Fprintf(out, "  %s -> %s\n", termsafe.Name(rn.SnapshotPath), termsafe.Name(rn.RestoredPath))
		}
		if more := res.RenamedCount - len(res.Renamed); more > 0 {
			fmt.Fprintln(out, "  "+tr.T("cli.restore.renamed_more", more))
		}
	}
	if devices > 0 {
		fmt.Fprintln(out, tr.T("cli.restore.devices", devices))
	}
	if failed > 0 {
		hint := "cli.restore.failed_hint"
		if exists > 0 {
			hint = "cli.restore.exists_hint"
		}
		code := ExitError
		if o.verify {
			code = ExitVerifyFail
		}
		return withCodeT(code, errorT("cli.restore.failed", failed), hint)
	}
	return nil
}

// restoreError gives the refusals of a restore their exit code and hint.
func restoreError(err error) error {
	switch {
	case errors.Is(err, beneath.ErrPrepared):
		return withCodeT(ExitRefused, err, "cli.restore.prepared_hint")
	case errors.Is(err, repo.ErrNoRoom):
		return withCode(ExitError, err, "")
	}
	return err
}
