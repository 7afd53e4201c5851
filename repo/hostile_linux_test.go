package repo

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"travelkit/internal/memlimit"
	"travelkit/internal/rsscheck"
)

// The hostile-repository harness: each crafted repository is opened by a child process
// (this test binary again, running TestHostileChild: internal/rsscheck), whose peak RSS
// the kernel reports when it exits. The bound is the issue's: 1 GiB whatever the
// repository holds.

// TestHostileChild is the child side of the harness; it does nothing in a normal test run.
func TestHostileChild(t *testing.T) {
	a, ok := rsscheck.Args()
	if !ok {
		return
	}
	op, dir := a[0], a[1]
	memlimit.Set() // as the CLI does
	err := hostileOp(op, dir, a[2:])
	if err != nil {
		fmt.Println("error:", err)
		rsscheck.Exit(3)
	}
	fmt.Println("ok")
	rsscheck.Exit(0)
}

// hostileOp is what a command does with a repository: the parts of the CLI that read it.
func hostileOp(op, dir string, args []string) error {
	ctx := context.Background()
	r, err := Open(ctx, NewFolder(dir), []byte(craftPassword))
	if err != nil || op == "open" {
		return err
	}
	switch op {
	case "snapshots":
		_, bad, err := r.LoadSnapshots(ctx)
		if err == nil && len(bad) > 0 {
			err = bad[0]
		}
		return err
	case "check":
		res, err := r.Check(ctx, CheckOptions{ReadData: true})
		if err == nil && !res.OK() {
			err = errors.Join(res.Errors...)
		}
		return err
	}
	if err := r.LoadIndex(ctx); err != nil || op == "index" {
		return err
	}
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		return err
	}
	switch op {
	case "restore":
		var warns []error
		res, err := r.Restore(ctx, sn, RestoreOptions{Target: args[0], Warn: func(p string, err error) {
			if len(warns) < 3 {
				warns = append(warns, fmt.Errorf("%s: %w", p, err))
			}
		}})
		if err != nil {
			return err
		}
		if res.Errors > 0 {
			return fmt.Errorf("%d entries not restored: %w", res.Errors, errors.Join(warns...))
		}
		return nil
	case "ls":
		n := 0
		return r.Walk(ctx, *sn.Tree, "/", func(string, *Node) error { n++; return nil })
	case "prune":
		_, err := r.Prune(ctx)
		return err
	}
	return fmt.Errorf("unknown op %q", op)
}
