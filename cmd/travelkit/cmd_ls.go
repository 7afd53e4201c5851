package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/internal/termsafe"
	"travelkit/repo"
)

type lsOptions struct {
	repoFlags
	long bool
}

func newLsCmd() *cobra.Command {
	var o lsOptions
	c := &cobra.Command{
		Use:  "ls (--target T ... | --repo LOCATION --password-file F) SNAPSHOT [PATH]",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			return o.closeAfter(runLs(c, &o, args))
		},
	}
	o.register(c)
	c.Flags().BoolVarP(&o.long, "long", "l", false, "")
	return c
}

func runLs(c *cobra.Command, o *lsOptions, args []string) error {
	ctx, cancel := signalContext()
	defer cancel()
	r, err := o.open(ctx)
	if err != nil {
		return err
	}
	sn, err := findSnapshot(ctx, r, args[0])
	if err != nil {
		return err
	}
	prefix := ""
	if len(args) == 2 {
		prefix = "/" + strings.Trim(filepath.ToSlash(args[1]), "/")
		if prefix == "/" {
			prefix = ""
		}
	}
	out := c.OutOrStdout()
	found := prefix == ""
	err = r.Walk(ctx, *sn.Tree, "/", func(p string, n *repo.Node) error {
		if prefix != "" && p != prefix && !strings.HasPrefix(p, prefix+"/") {
			if strings.HasPrefix(prefix, p+"/") {
				return nil // on the way down
			}
			return filepath.SkipDir
		}
		found = true
		if o.long {
			mode := n.Mode
			fmt.Fprintf(out, "%s %5d %5d %12d %s %s", mode, n.UID, n.GID, n.Size,
				n.ModTime.Format("2006-01-02 15:04:05"), termsafe.Name(p))
			if n.Type == repo.NodeSymlink {
				fmt.Fprintf(out, " -> %s", termsafe.Name(n.LinkTarget))
			}
			fmt.Fprintln(out)
		} else {
			fmt.Fprintln(out, termsafe.Name(p))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return withCodeT(ExitError, errorT("cli.ls.not_in", prefix, sn.ID.Str()), "cli.ls.not_in_hint", sn.ID.Str())
	}
	return nil
}
