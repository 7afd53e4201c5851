package main

import (
	"travelkit/internal/termsafe"

	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newFilesCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "files",
	}
	c.AddCommand(newFilesLsCmd(), newFilesGetCmd(), newFilesPutCmd())
	return c
}

func cleanRemote(p string) (string, error) {
	p = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(p, "\\", "/")), "/")
	if p == "" {
		p = "."
	}
	return p, nil
}

func newFilesLsCmd() *cobra.Command {
	var k kitFlags
	c := &cobra.Command{
		Use:  "ls --target T [--passphrase-file F] [PATH]",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runFilesLs(&k, args) },
	}
	k.register(c.Flags())
	return c
}

func runFilesLs(k *kitFlags, args []string) error {
	p := "."
	if len(args) == 1 {
		p, _ = cleanRemote(args[0])
	}
	o, err := openKit(k.target, false)
	if err != nil {
		return err
	}
	defer o.Close()
	u, err := k.unlock(o, false)
	if err != nil {
		return err
	}
	defer u.Close()
	st, err := u.FS.Stat(p)
	if err != nil {
		return wrapT(err, "cli.files.at", p, describeError(err))
	}
	if !st.IsDir() {
		fmt.Printf("%s %12d %s %s\n", st.Mode, st.Size, st.ModTime.Format(time.DateTime), termsafe.Name(p))
		return nil
	}
	ents, err := u.FS.ReadDir(p)
	if err != nil {
		return wrapT(err, "cli.files.at", p, describeError(err))
	}
	for _, e := range ents {
		name := e.Name
		if e.IsDir() {
			name += "/"
		}
		fmt.Printf("%s %12d %s %s\n", e.Mode, e.Size, e.ModTime.Format(time.DateTime), termsafe.Name(name))
	}
	return nil
}

func newFilesGetCmd() *cobra.Command {
	var k kitFlags
	c := &cobra.Command{
		Use:  "get --target T [--passphrase-file F] REMOTE LOCAL",
		Args: exactArgs("REMOTE", "LOCAL"),
		RunE: func(cmd *cobra.Command, args []string) error { return runFilesGet(&k, args) },
	}
	k.register(c.Flags())
	return c
}

func runFilesGet(k *kitFlags, args []string) error {
	remote, _ := cleanRemote(args[0])
	local := args[1]
	if local != "-" {
		if _, err := os.Stat(local); err == nil {
			return withCodeT(ExitRefused, errorT("cli.files.exists", local), "cli.files.exists_hint")
		}
	}
	o, err := openKit(k.target, false)
	if err != nil {
		return err
	}
	defer o.Close()
	u, err := k.unlock(o, false)
	if err != nil {
		return err
	}
	defer u.Close()
	f, err := u.FS.Open(remote)
	if err != nil {
		return wrapT(err, "cli.files.at", remote, describeError(err))
	}
	var w io.Writer = os.Stdout
	if local != "-" {
		out, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		defer out.Close()
		w = out
	}
	bar := newProgress(tr.T("cli.files.copying", remote), f.Size())
	_, err = io.Copy(w, progressReader{io.NewSectionReader(f, 0, f.Size()), bar})
	bar.Done()
	if err != nil {
		return wrapT(err, "cli.files.copy_failed", remote, describeError(err))
	}
	return nil
}

func newFilesPutCmd() *cobra.Command {
	var k kitFlags
	c := &cobra.Command{
		Use:  "put --target T [--passphrase-file F] LOCAL REMOTE",
		Args: exactArgs("LOCAL", "REMOTE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runFilesPut(&k, args) },
	}
	k.register(c.Flags())
	return c
}

func runFilesPut(k *kitFlags, args []string) (err error) {
	local := args[0]
	remote, _ := cleanRemote(args[1])
	if remote == "." {
		return usageErrorT("cli.files.remote_file")
	}
	var r io.Reader
	var size int64
	mtime := time.Now()
	if local == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		r, size = strings.NewReader(string(b)), int64(len(b))
	} else {
		f, err := os.Open(local)
		if err != nil {
			return usageErrorT("cli.files.at", local, describeError(unwrapPathErr(err)))
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return usageErrorT("cli.files.not_regular", local)
		}
		r, size, mtime = f, st.Size(), st.ModTime()
	}
	o, err := openKit(k.target, true)
	if err != nil {
		return err
	}
	defer closeWritten(o, &err)
	u, err := k.unlock(o, true)
	if err != nil {
		return err
	}
	if dir := path.Dir(remote); dir != "." {
		if err := u.FS.MkdirAll(dir); err != nil {
			u.Close() // the write failed: that is the error to report
			return wrapT(err, "cli.files.mkdir", dir, describeError(err))
		}
	}
	bar := newProgress(tr.T("cli.files.copying", local), size)
	err = u.FS.WriteFile(remote, progressReader{r, bar}, size, mtime)
	bar.Done()
	if err != nil {
		u.Close() // the write failed: that is the error to report
		return wrapT(err, "cli.files.write", remote, describeError(err))
	}
	if err := u.Close(); err != nil {
		return wrapT(err, "cli.files.close", describeError(err))
	}
	return o.tg.Sync()
}
