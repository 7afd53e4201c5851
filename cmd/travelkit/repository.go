package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/internal/version"
	"travelkit/kit"
	"travelkit/remote"
	"travelkit/repo"
)

// repoFlags are the flags that name a repository: a folder (--repo, with
// --password-file), or a kit (--target), whose repository is repo/ inside its encrypted
// volume, with the password the build kept in travelkit/repo-password. restore finds the
// kit drive by itself when neither is given.
type repoFlags struct {
	repo         string
	passwordFile string
	remote       remoteFlags // credentials and trust for a remote --repo
	kit          kitFlags
	writeKit     bool // the command writes the repository (backup, forget, init)
	autoFind     bool // without --repo and --target, look for a kit drive (restore)
	kitPassword  []byte
	closeKit     func() error // set by kitStorage: flushes and closes the kit
	loc          remote.Location
	unlocked     *drive.Unlocked // the kit's volume, when the repository is a kit's
}

func (f *repoFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.repo, "repo", "", "")
	c.Flags().StringVar(&f.passwordFile, "password-file", "", "")
	f.remote.register(c.Flags())
	f.kit.register(c.Flags())
	switch c.Name() {
	case "backup", "forget", "init", "unlock":
		f.writeKit = true
	case "restore":
		f.autoFind = true
	}
}

// storage returns where the repository lives.
func (f *repoFlags) storage() (repo.Storage, error) { return f.storageAs(false) }

// storageAs is storage; early: a kit's key check may still run when it returns
// (unlockEarly), and the caller opens the repository with openRepo, which ends it.
func (f *repoFlags) storageAs(early bool) (repo.Storage, error) {
	if f.repo != "" && f.kit.target != "" {
		return nil, usageErrorT("cli.repo.both")
	}
	if f.repo == "" && f.kit.target == "" && f.autoFind {
		t, err := findKit()
		if err != nil {
			return nil, err
		}
		f.kit.target = t
	}
	if f.kit.target != "" {
		return f.kitStorage(early)
	}
	if f.repo == "" {
		return nil, usageErrorT("cli.repo.none")
	}
	loc, err := remote.ParseLocation(f.repo)
	if err != nil {
		return nil, usageErrorf("--repo: %v", err)
	}
	f.loc = loc
	if !loc.Remote() {
		return repo.NewFolder(loc.Path), nil
	}
	ctx, cancel := signalContext()
	defer cancel()
	cred, err := f.remote.credentials(loc)
	if err != nil {
		return nil, err
	}
	st, err := openRemote(ctx, loc, cred, remote.Options{Prompt: terminalPrompt()})
	if err != nil {
		return nil, err
	}
	f.closeKit = st.Close
	return st, nil
}

// kitStorage unlocks the kit and returns its repository storage; the kit stays open
// until the command ends (closeAfter flushes the volume and closes it).
func (f *repoFlags) kitStorage(early bool) (repo.Storage, error) {
	o, err := openKit(f.kit.target, f.writeKit)
	if err != nil {
		return nil, err
	}
	// early: the key check of the unlock (a PBKDF2 of ~125 ms) runs beside the reading of
	// the repository password and the repository's own key derivation (scrypt, ~100 ms);
	// openRepo calls verifyKit before it acts on anything read.
	unlock := f.kit.unlock
	if early {
		unlock = f.kit.unlockEarly
	}
	u, err := unlock(o, f.writeKit)
	if err != nil {
		o.Close()
		return nil, err
	}
	f.closeKit = func() error {
		err := u.Close()
		if cerr := o.Close(); err == nil {
			err = cerr
		}
		return err
	}
	f.unlocked = u
	return f.kitRepoStorage()
}

// kitRepoStorage reads the repository password kept in the unlocked kit and returns
// the kit's repository storage.
func (f *repoFlags) kitRepoStorage() (repo.Storage, error) {
	u := f.unlocked
	pw, err := u.ReadSmallFile(drive.RepoPassword)
	if err != nil {
		// a wrong passphrase's key reads garbage: say that, not what the garbage lacks
		if reopened, verr := f.kit.verifyKit(u); verr != nil {
			return nil, verr
		} else if reopened {
			return f.kitRepoStorage()
		}
		return nil, causeT(err, "cli.more.no_repo_password", drive.RepoPassword)
	}
	f.kitPassword = bytes.TrimSpace(pw)
	st := u.RepoStorage()
	if !f.writeKit {
		st.SetReadOnly()
	}
	return st, nil
}

// closeAfter closes the kit that kitStorage opened, once the command has run (its
// deferred unlocks done), and reports a failure to flush it unless the command failed
// already. Every command with repoFlags returns through it.
func (f *repoFlags) closeAfter(err error) error {
	if f.closeKit != nil {
		if cerr := f.closeKit(); cerr != nil && err == nil {
			err = causeT(cerr, "cli.change.close_failed")
		}
		f.closeKit = nil
	}
	return err
}

// findSnapshot is r.FindSnapshot (an ID, its first hex digits, or latest) with an error
// the person can act on.
func findSnapshot(ctx context.Context, r *repo.Repository, which string) (*repo.Snapshot, error) {
	sn, err := r.FindSnapshot(ctx, which)
	// package repo says "no snapshots in the repository", "no snapshot matches ..." or
	// "snapshot ID ... too short"; anything else (reading, decrypting) goes up as it is
	if msg := fmt.Sprint(err); err != nil && (strings.HasPrefix(msg, "no snapshot") || strings.Contains(msg, "too short")) {
		return nil, withCodeT(ExitError, wrapT(err, "cli.snapshot.not_found", which), "cli.snapshot.not_found_hint")
	}
	return sn, err
}

// findKit looks for kit drives on this machine, for restore on a fresh computer.
func findKit() (string, error) {
	found, needAdmin, err := drive.Find()
	if err != nil {
		return "", err
	}
	switch {
	case len(found) == 1:
		fmt.Fprintln(os.Stderr, tr.T("cli.find.using", termsafe.Name(found[0].KitID), found[0].Path))
		return found[0].Path, nil
	case len(found) > 1:
		var b strings.Builder
		for _, k := range found {
			b.WriteString("\n" + tr.T("cli.find.several_item", k.Path, termsafe.Name(k.KitID), bytesize.Format(k.Size), termsafe.Name(k.Model)))
		}
		return "", usageErrorT("cli.find.several", b.String())
	case needAdmin:
		return "", withCodeT(ExitRefused, errorT("cli.find.admin"), "cli.find.admin_hint")
	}
	return "", usageErrorT("cli.find.none")
}

// password reads the repository password the way restic reads
// --password-file: a UTF-8 byte-order mark and surrounding white space
// (the trailing newline) are dropped, so one file works with both tools.
// For a kit it is the password kept inside the kit.
func (f *repoFlags) password() ([]byte, error) {
	if f.kitPassword != nil {
		if f.passwordFile != "" {
			return nil, usageErrorT("cli.repo.kit_password")
		}
		return append([]byte(nil), f.kitPassword...), nil
	}
	if f.passwordFile == "" && f.kit.recoveryFile != "" {
		// --repo with --recovery-key-file: the key remote add made for the recovery key
		f.passwordFile = f.kit.recoveryFile
	}
	if f.passwordFile == "" {
		if env := os.Getenv("RESTIC_PASSWORD_FILE"); env != "" {
			f.passwordFile = env
		} else if isTerminal() {
			b, err := promptSecret(tr.T("cli.secret.repo_prompt"), false)
			if err != nil {
				return nil, err
			}
			return canonicalPassword(b), nil
		} else {
			return nil, usageErrorT("cli.secret.no_password")
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
		return nil, usageErrorT("cli.repo.blank_password", f.passwordFile)
	}
	return canonicalPassword(out), nil
}

// canonicalPassword: a recovery key opens an off-site copy with the repository key that
// `remote add` made for it, whose password is the key as printed; one typed in upper
// case or with spaces is taken in that form.
func canonicalPassword(b []byte) []byte {
	if len(b) > 2*kit.RecoveryKeyLength {
		return b
	}
	if rk, err := kit.ParseRecoveryKey(string(b)); err == nil {
		clear(b)
		return []byte(rk)
	}
	return b
}

// where names the repository in messages.
func (f *repoFlags) where() string {
	if f.kit.target != "" {
		return "the kit " + f.kit.target
	}
	if f.loc.Kind != "" {
		return f.loc.String()
	}
	return f.repo
}

// open opens the repository. A kit's repository is made by its build; a kit built before
// that gets it at its first backup.
func (f *repoFlags) open(ctx context.Context) (*repo.Repository, error) {
	st, err := f.storageAs(true)
	if err != nil {
		return nil, err
	}
	pw, err := f.password()
	if err != nil {
		return nil, err
	}
	defer func() { clear(pw) }()
	r, err, kitErr := f.openRepo(ctx, &st, &pw)
	if kitErr != nil {
		return nil, kitErr
	}
	if errors.Is(err, repo.ErrNoRepository) && f.kit.target != "" && f.writeKit {
		r, err = repo.Init(ctx, st, pw)
		if err == nil && f.unlocked != nil {
			_ = f.unlocked.KeepRepositoryKey(r) // best effort, as in openRepo
		}
	}
	if err != nil {
		return nil, repoError(err, f.where())
	}
	// the index is read when a command first needs a blob: snapshots, forget and unlock
	// never read it
	return r, nil
}

// openRepo is repo.Open(*st, *pw) after storageAs(true): a kit's key check, which ran
// meanwhile, has passed before it returns (nothing read is acted upon before; kitErr is
// its error, unlock's message: return it as it is); when another keyslot's key opened
// the kit, the password and the repository are read again from it (*st and *pw
// replaced). err is repo.Open's.
//
// On a kit, the repository is first opened with the master key kept inside the volume
// (drive.OpenKeptRepository: no scrypt), which also proves the keyslot's key, so the
// rest of the key check is not waited for (drive.Unlocked.Accept). The build keeps the key
// of the repository it makes; without a kept key (a kit built before that, or a
// repository made anew), a writable kit keeps it for the next command.
func (f *repoFlags) openRepo(ctx context.Context, st *repo.Storage, pw *[]byte) (r *repo.Repository, err, kitErr error) {
	if f.unlocked != nil {
		if r, err := f.unlocked.OpenKeptRepository(ctx, *st); err == nil {
			if kitErr := kitUnlockError(f.unlocked.Accept(), f.kit.crlf, f.kit.encoding); kitErr != nil {
				return nil, nil, kitErr
			}
			return r, nil, nil
		}
	}
	r, err = repo.Open(ctx, *st, *pw)
	if f.unlocked == nil {
		return r, err, nil
	}
	reopened, kitErr := f.kit.verifyKit(f.unlocked)
	if kitErr == nil && err == nil {
		// best effort: a kit that cannot keep it opens with scrypt, as before
		_ = f.unlocked.KeepRepositoryKey(r)
	}
	if kitErr != nil || !reopened {
		return r, err, kitErr
	}
	clear(*pw)
	if *st, kitErr = f.kitRepoStorage(); kitErr != nil {
		return nil, nil, kitErr
	}
	if *pw, kitErr = f.password(); kitErr != nil {
		return nil, nil, kitErr
	}
	r, err = repo.Open(ctx, *st, *pw)
	return r, err, nil
}

// lockRepo takes a repository lock, mapping a conflict to ExitLocked.
func lockRepo(ctx context.Context, r *repo.Repository, exclusive bool) (*repo.Lock, error) {
	if ro, ok := r.Storage().(interface{ ReadOnly() bool }); ok && ro.ReadOnly() {
		// A kit opened read-only (restore, check, on a drive nothing else writes): no
		// lock file, as restic --no-lock.
		return nil, nil
	}
	l, err := r.Lock(ctx, exclusive)
	if err != nil {
		var le *repo.LockedError
		if errors.As(err, &le) {
			return nil, withCodeT(ExitLocked, err, "cli.repo.locked_hint")
		}
		return nil, err
	}
	return l, nil
}

// pendingLock is a shared lock being taken in the background (lockLater).
type pendingLock struct {
	done chan struct{}
	l    *repo.Lock
	err  error
}

// lockLater takes a shared lock while the caller goes on reading; wait returns
// lockRepo's error once the lock is taken or refused. Only commands that read
// the repository until wait returns may use it.
func lockLater(ctx context.Context, r *repo.Repository) *pendingLock {
	p := &pendingLock{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.l, p.err = lockRepo(ctx, r, false)
	}()
	return p
}

func (p *pendingLock) wait() error {
	<-p.done
	return p.err
}

// unlock waits for the lock and removes it if it was taken.
func (p *pendingLock) unlock() {
	<-p.done
	p.l.Unlock()
}

func repoError(err error, where string) error {
	switch {
	case errors.Is(err, repo.ErrWrongPassword):
		return withCodeT(ExitWrongKey, fmt.Errorf("%s: %w", where, err), "cli.repo.wrong_password_hint")
	case errors.Is(err, repo.ErrNoRepository):
		return withCodeT(ExitError, fmt.Errorf("%s: %w", where, err), "cli.repo.no_repository_hint")
	}
	if rerr := remoteError(err); rerr != err {
		return rerr
	}
	return fmt.Errorf("%s: %w", where, err)
}

// signalContext is cancelled on Ctrl-C so that commands stop cleanly.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return withCode(ExitInterrupted, errorT("cli.repo.interrupted"), "")
	}
	return err
}

func programVersion() string { return "travelkit " + version.Version }

func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
