package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"travelkit/internal/version"
	"travelkit/repo"
)

// repoFlags are the flags that name a repository. Every repository command
// embeds them; another way to reach a repository (a kit) adds its flags here
// and a case in open.
type repoFlags struct {
	repo         string
	passwordFile string
}

func (f *repoFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.repo, "repo", "", "repository `folder` (a restic repository)")
	c.Flags().StringVar(&f.passwordFile, "password-file", "", "`file` holding the repository password (as restic's --password-file)")
}

// storage returns where the repository lives.
func (f *repoFlags) storage() (repo.Storage, error) {
	if f.repo == "" {
		return nil, usageErrorf("no repository given; use --repo DIR")
	}
	return repo.NewFolder(f.repo), nil
}

// password reads the repository password the way restic reads
// --password-file: a UTF-8 byte-order mark and surrounding white space
// (the trailing newline) are dropped, so one file works with both tools.
func (f *repoFlags) password() ([]byte, error) {
	if f.passwordFile == "" {
		if env := os.Getenv("RESTIC_PASSWORD_FILE"); env != "" {
			f.passwordFile = env
		} else {
			return nil, usageErrorf("no password given; use --password-file FILE")
		}
	}
	b, err := readSecretFile(f.passwordFile, "password file")
	if err != nil {
		return nil, err
	}
	p := bytes.TrimSpace(bytes.TrimPrefix(b, []byte{0xef, 0xbb, 0xbf}))
	out := append([]byte(nil), p...)
	clear(b)
	if len(out) == 0 {
		return nil, usageErrorf("password file %s holds only white space", f.passwordFile)
	}
	return out, nil
}

// open opens the repository and loads its index.
func (f *repoFlags) open(ctx context.Context) (*repo.Repository, error) {
	st, err := f.storage()
	if err != nil {
		return nil, err
	}
	pw, err := f.password()
	if err != nil {
		return nil, err
	}
	defer clear(pw)
	r, err := repo.Open(ctx, st, pw)
	if err != nil {
		return nil, repoError(err, f.repo)
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, fmt.Errorf("reading the index of %s: %w", f.repo, err)
	}
	return r, nil
}

// lock takes a repository lock, mapping a conflict to ExitLocked.
func lockRepo(ctx context.Context, r *repo.Repository, exclusive bool) (*repo.Lock, error) {
	l, err := r.Lock(ctx, exclusive)
	if err != nil {
		var le *repo.LockedError
		if errors.As(err, &le) {
			return nil, withCode(ExitLocked, err, "wait for the other backup or restic process to finish; a lock older than 30 minutes or of a dead process is ignored")
		}
		return nil, err
	}
	return l, nil
}

func repoError(err error, where string) error {
	switch {
	case errors.Is(err, repo.ErrWrongPassword):
		return withCode(ExitWrongKey, fmt.Errorf("%s: %w", where, err), "check the --password-file; it must hold the password the repository was made with")
	case errors.Is(err, repo.ErrNoRepository):
		return withCode(ExitError, fmt.Errorf("%s: %w", where, err), "make one with `travelkit init --repo DIR --password-file F`")
	}
	return fmt.Errorf("%s: %w", where, err)
}

// signalContext is cancelled on Ctrl-C so that commands stop cleanly.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return withCode(ExitInterrupted, errors.New("interrupted; the repository is consistent"), "")
	}
	return err
}

func programVersion() string { return "travelkit " + version.Version }

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

type initOptions struct {
	repoFlags
}

func newInitCmd() *cobra.Command {
	var o initOptions
	c := &cobra.Command{
		Use:   "init --repo DIR --password-file F",
		Short: "Create a new encrypted backup repository (restic format v2)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runInit(c, &o)
		},
	}
	o.register(c)
	return c
}

func runInit(c *cobra.Command, o *initOptions) error {
	ctx, cancel := signalContext()
	defer cancel()
	st, err := o.storage()
	if err != nil {
		return err
	}
	pw, err := o.password()
	if err != nil {
		return err
	}
	defer clear(pw)
	r, err := repo.Init(ctx, st, pw)
	if err != nil {
		return fmt.Errorf("%s: %w", o.repo, err)
	}
	fmt.Fprintf(c.OutOrStdout(), "created repository %s at %s\n", r.Config().ID[:10], o.repo)
	return nil
}

func init() { register(newInitCmd) }
