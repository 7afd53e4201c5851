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
		Use:  "restore [--target T ... | --repo LOCATION --password-file F] SNAPSHOT|latest --to DIR",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runRestore(c, &o, args[0]))
		},
	}
	o.register(c)
	f := c.Flags()
	f.StringVar(&o.to, "to", "", "")
	f.StringArrayVar(&o.include, "include", nil, "")
	f.BoolVar(&o.verify, "verify", false, "")
	f.BoolVar(&o.keepSetuid, "keep-setuid", false, "")
	f.BoolVar(&o.json, "json", false, "")
	return c
}

// restoreCounted, when set (by tests only), runs once a restore has counted its snapshot,
// before it waits for its lock: where a prune elsewhere can replace the index.
var restoreCounted func()

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
	// The lock file is written and synced (a journal commit: 2-120 ms on a laptop's
	// ext4) while the snapshot is found and counted, which only read; nothing is made
	// at the target before the lock is held, and a lock refused wins over a read error.
	lk := lockLater(ctx, r)
	defer lk.unlock()
	sn, err := findSnapshot(ctx, r, which)
	if err != nil {
		if lerr := lk.wait(); lerr != nil {
			return lerr
		}
		return err
	}
	out := c.OutOrStdout()
	pp := &progressPrinter{out: out, json: o.json, terminal: stderrIsTerminal(), line: "cli.progress.restored"}
	failed, exists, devices := 0, 0, 0
	opts := repo.RestoreOptions{
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
	}
	// once the lock is held, the index read meanwhile must still be the repository's
	// (a prune may have replaced it in between): if not, the restore is planned again
	// on the index and snapshots as they are now, under the lock
	opts.Planned = func() error {
		if restoreCounted != nil {
			restoreCounted()
		}
		if err := lk.wait(); err != nil {
			return err
		}
		cur, err := r.IndexCurrent(ctx)
		if err == nil && !cur {
			err = repo.ErrIndexChanged
		}
		return err
	}
	res, err := r.Restore(ctx, sn, opts)
	if errors.Is(err, repo.ErrIndexChanged) {
		if err = r.RefreshIndex(ctx); err == nil {
			if sn, err = findSnapshot(ctx, r, which); err == nil {
				opts.Planned = nil
				res, err = r.Restore(ctx, sn, opts)
			}
		}
	}
	if err != nil {
		if lerr := lk.wait(); lerr != nil {
			return lerr
		}
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
