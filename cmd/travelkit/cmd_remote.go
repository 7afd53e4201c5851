package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/internal/termsafe"
	"travelkit/kit"
	"travelkit/remote"
	"travelkit/repo"
)

func newRemoteCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "remote",
	}
	c.AddCommand(newRemoteAddCmd(), newRemoteListCmd(), newRemoteRemoveCmd())
	return c
}

type remoteAddOptions struct {
	kit          kitFlags
	remote       remoteFlags
	passwordFile string
	json         bool
}

func newRemoteAddCmd() *cobra.Command {
	var o remoteAddOptions
	c := &cobra.Command{
		Use:  "add --target T NAME LOCATION [--password-file F] [--ca-cert F] [--host-key FINGERPRINT]",
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return runRemoteAdd(c, &o, args[0], args[1])
		},
	}
	o.kit.registerSecret(c.Flags())
	o.remote.register(c.Flags())
	c.Flags().StringVar(&o.passwordFile, "password-file", "", "")
	c.Flags().BoolVar(&o.json, "json", false, "")
	return c
}

// kitHasRecoveryKey reads the kit's manifest in the volume: whether it has a recovery keyslot.
func kitHasRecoveryKey(u *drive.Unlocked) bool {
	b, err := u.FS.ReadFile(drive.MetaDir + "/" + kit.ManifestName)
	if err != nil {
		return true // assume the usual kit; asking for the key is then the safe side
	}
	m, err := kit.ParseManifest(b)
	if err != nil {
		return true
	}
	for _, k := range m.Keyslots {
		if k.Kind == kit.KeyslotRecoveryKey {
			return true
		}
	}
	return false
}

// openKitRepo opens the repository inside an unlocked kit, creating it when create is set:
// with the master key kept in the volume (drive.OpenKeptRepository: no scrypt) when it
// opens the repository, else with the password the build kept beside it, then keeping
// its master key for the next command (best effort, as backup does).
func openKitRepo(ctx context.Context, u *drive.Unlocked, create bool) (*repo.Repository, error) {
	st := u.RepoStorage()
	if r, err := u.OpenKeptRepository(ctx, st); err == nil {
		return r, nil
	}
	pw, err := u.FS.ReadFile(drive.RepoPassword)
	if err != nil {
		return nil, causeT(err, "cli.remote.no_password", drive.RepoPassword)
	}
	defer clear(pw)
	pass := bytes.TrimSpace(pw)
	r, err := repo.Open(ctx, st, pass)
	if errors.Is(err, repo.ErrNoRepository) && create {
		r, err = repo.Init(ctx, st, pass)
	}
	if err != nil {
		return nil, repoError(err, "the kit's repository")
	}
	_ = u.KeepRepositoryKey(r) // without it, the next command derives the key again
	return r, nil
}

func runRemoteAdd(c *cobra.Command, o *remoteAddOptions, name, location string) (err error) {
	if err := remote.ValidName(name); err != nil {
		return usageErrorf("%v", err)
	}
	loc, err := remote.ParseLocation(location)
	if err != nil {
		return usageErrorT("cli.remote.location", err)
	}
	ctx, cancel := signalContext()
	defer cancel()

	// the person's own passphrase for the copy, read before anything is changed
	var ownPass []byte
	if o.passwordFile != "" {
		b, err := readSecretFile(o.passwordFile, "password file")
		if err != nil {
			return err
		}
		ownPass = bytes.Clone(bytes.TrimSpace(bytes.TrimPrefix(b, []byte{0xef, 0xbb, 0xbf})))
		clear(b)
		if len(ownPass) == 0 {
			return usageErrorT("cli.repo.blank_password", o.passwordFile)
		}
	}
	defer clear(ownPass)

	ok, err := openKit(o.kit.target, true)
	if err != nil {
		return err
	}
	defer closeWritten(ok, &err)
	// unlock with the recovery key, which the kit does not store
	var rk []byte
	if o.kit.passFile == "" {
		if o.kit.recoveryFile == "" && len(o.kit.identities) == 0 {
			if !isTerminal() {
				return usageErrorT("cli.remote.needs_recovery")
			}
			if rk, err = promptRecoveryKey(); err != nil {
				return err
			}
		} else {
			b, err := o.kit.secret(ok.d)
			if err != nil {
				return err
			}
			k, err := kit.ParseRecoveryKey(string(b))
			clear(b)
			if err != nil {
				return withCodeT(ExitWrongKey, err, "cli.remote.escrow_no_key")
			}
			rk = []byte(k)
		}
	}
	defer clear(rk)
	var u *drive.Unlocked
	if rk != nil {
		u, err = unlockWith(ok, rk, -1, true, false)
	} else {
		pass, perr := o.kit.secret(ok.d)
		if perr != nil {
			return perr
		}
		u, err = unlockWith(ok, pass, -1, true, true)
		clear(pass)
	}
	if err != nil {
		return err
	}
	closeKit := func(err error) error {
		if cerr := u.Close(); cerr != nil && err == nil {
			err = causeT(cerr, "cli.change.close_failed")
		}
		return err
	}
	return closeKit(addRemote(ctx, c, o, ok.d, u, name, loc, rk, ownPass))
}

// promptRecoveryKey asks the terminal for the kit's recovery key and returns it in its
// canonical form; one that is not a recovery key is refused (ExitWrongKey).
func promptRecoveryKey() ([]byte, error) {
	b, err := promptSecret(tr.T("cli.prompt.recovery"), false)
	if err != nil {
		return nil, err
	}
	k, err := kit.ParseRecoveryKey(string(b))
	clear(b)
	if err != nil {
		return nil, withCodeT(ExitWrongKey, err, "cli.unlock.recovery_hint")
	}
	return []byte(k), nil
}

func addRemote(ctx context.Context, c *cobra.Command, o *remoteAddOptions, d *drive.Drive, u *drive.Unlocked, name string, loc remote.Location, rk, ownPass []byte) error {
	if rk == nil && kitHasRecoveryKey(u) {
		if !isTerminal() {
			return usageErrorT("cli.remote.needs_recovery_unlock")
		}
		var err error
		if rk, err = promptRecoveryKey(); err != nil {
			return err
		}
		defer clear(rk)
		vk, _, err := u.Container.Unlock(rk)
		if err != nil {
			return withCodeT(ExitWrongKey, errorT("cli.remote.not_this_key"), "cli.remote.not_this_key_hint")
		}
		vk.Wipe()
	}
	if rk == nil && ownPass == nil {
		if !isTerminal() {
			return usageErrorT("cli.remote.no_recovery_file")
		}
	}
	if _, err := u.Remote(name); err == nil {
		return withCodeT(ExitRefused, errorT("cli.remote.exists", name), "cli.remote.exists_hint", "travelkit remote remove")
	}

	// reach the place, with the credentials; pin what was accepted
	cred, err := o.remote.credentials(loc)
	if err != nil {
		return err
	}
	var typed string
	prompt := terminalPrompt()
	if prompt != nil {
		ask := prompt
		prompt = func(what string) ([]byte, error) {
			b, err := ask(what)
			if err == nil && strings.HasPrefix(what, "SSH password") {
				typed = string(b)
			}
			return b, err
		}
	}
	st, err := openRemote(ctx, loc, cred, remote.Options{Prompt: prompt})
	if err != nil {
		return err
	}
	defer st.Close()
	if typed != "" {
		cred.Password = typed
	}
	if hk, ok := st.(interface{ HostKey() string }); ok {
		if _, fp, ok := strings.Cut(hk.HostKey(), " "); ok {
			cred.HostKey = fp
		}
	}

	r, err := openKitRepo(ctx, u, true)
	if err != nil {
		return err
	}
	// a place that holds another repository is refused
	if theirs, err := st.Load(ctx, repo.Handle{Type: repo.ConfigFile}, 0, 0); err == nil {
		ours, err := r.Storage().Load(ctx, repo.Handle{Type: repo.ConfigFile}, 0, 0)
		if err != nil {
			return err
		}
		if !bytes.Equal(theirs, ours) {
			return remoteError(fmt.Errorf("%s: %w", loc, remote.ErrOtherRepository))
		}
	} else if !repo.IsNotExist(err) {
		return remoteError(fmt.Errorf("%s: %w", loc, err))
	}

	// the keys that open the copy without the kit
	if ownPass == nil && isTerminal() {
		fmt.Fprintln(os.Stderr, tr.T("cli.remote.own_passphrase"))
		b, err := promptSecretOptional(tr.T("cli.remote.own_prompt"))
		if err != nil {
			return err
		}
		ownPass = b
		defer clear(ownPass)
	}
	if rk == nil && ownPass == nil {
		return usageErrorT("cli.remote.no_recovery")
	}
	type keyInfo struct {
		For  string `json:"for"`
		Key  string `json:"key"`
		New  bool   `json:"new"`
		Left string `json:"-"`
	}
	var keys []keyInfo
	forKey := map[string]string{"recovery key": tr.T("cli.remote.for_recovery"), "passphrase": tr.T("cli.remote.for_passphrase")}
	// Each key file a secret is tried on costs a scrypt derivation (two when it does not
	// open): the kit's own password's key file is tried only with that password, and the
	// recovery key's recorded one first; a secret this command gave a key file is known
	// for the next (so a new secret costs only its own key file's derivation).
	var known []repo.KnownKey
	if own, ok := u.OwnRepoKey(r); ok {
		defer clear(own.Password)
		known = append(known, own)
	}
	recorded, _ := drive.RecoveryRepoKey(u)
	for _, k := range []struct {
		what     string // in --json
		pw       []byte
		recovery bool
	}{{"recovery key", rk, true}, {"passphrase", ownPass, false}} {
		if k.pw == nil {
			continue
		}
		h := repo.KeyHints{Known: known}
		if k.recovery {
			h.First = recorded
		}
		n, added, err := r.AddKey(ctx, k.pw, h)
		if err != nil {
			return causeT(err, "cli.remote.add_key_failed", forKey[k.what])
		}
		known = append(known, repo.KnownKey{Name: n, Password: k.pw})
		if k.recovery {
			// recorded, so that a rotation unlocked without the old recovery key finds
			// and replaces it (builder's replaceRecoveryRepoKey)
			if err := drive.SetRecoveryRepoKey(u, n); err != nil {
				return causeT(err, "cli.remote.record_key_failed")
			}
		}
		keys = append(keys, keyInfo{For: k.what, Key: n[:8], New: added})
	}

	s := &remote.Settings{Name: name, Location: loc, Cred: *cred, Added: time.Now()}
	s.Cred.KnownHosts = nil
	if err := u.SaveRemote(s); err != nil {
		return causeT(err, "cli.remote.save_failed")
	}
	// the RESTORE pages say that a copy exists (where, and with which secret, they never say)
	pages, err := markOffSite(ctx, d, u, rk)
	if err != nil {
		return causeT(err, "cli.remote.pages_failed", "travelkit refresh")
	}

	out := c.OutOrStdout()
	if o.json {
		b, _ := json.Marshal(map[string]any{"remote": s.Public(), "keys": keys, "restore_pages_rewritten": pages})
		fmt.Fprintln(out, string(b))
		return nil
	}
	fmt.Fprintln(out, tr.T("cli.remote.added", name, termsafe.Name(loc.String())))
	if cred.HostKey != "" {
		fmt.Fprintln(out, tr.T("cli.remote.host_key", cred.HostKey))
	}
	for _, k := range keys {
		state := "cli.remote.key_added"
		if !k.New {
			state = "cli.remote.key_present"
		}
		fmt.Fprintln(out, tr.T(state, k.Key, forKey[k.For]))
	}
	if pages {
		fmt.Fprintln(out, tr.T("cli.remote.pages"))
	}
	if loc.Kind == remote.SFTP && len(cred.SSHKey) == 0 && cred.Password == "" {
		fmt.Fprintln(out, tr.T("cli.remote.no_ssh_key", "--ssh-key F"))
	}
	fmt.Fprintln(out, tr.T("cli.remote.copy_with", "travelkit copy --target "+o.kit.target+" "+name))
	fmt.Fprintln(out, tr.T("cli.remote.opens_without", "restic -r "+termsafe.Name(loc.String())+" --password-file recovery-key.txt snapshots"))
	return nil
}

// promptSecretOptional asks for a new passphrase twice; an empty answer means none.
func promptSecretOptional(prompt string) ([]byte, error) {
	b, err := promptSecret(prompt, true)
	var ce *cliError
	if errors.As(err, &ce) && ce.code == ExitUsage && strings.Contains(err.Error(), "empty passphrase") {
		return nil, nil
	}
	return b, err
}

type remoteListOptions struct {
	kit  kitFlags
	json bool
}

func newRemoteListCmd() *cobra.Command {
	var o remoteListOptions
	c := &cobra.Command{
		Use:  "list --target T [--json]",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runRemoteList(c, &o)
		},
	}
	o.kit.register(c.Flags())
	c.Flags().BoolVar(&o.json, "json", false, "")
	return c
}

func runRemoteList(c *cobra.Command, o *remoteListOptions) error {
	ok, err := openKit(o.kit.target, false)
	if err != nil {
		return err
	}
	defer ok.Close()
	u, err := o.kit.unlock(ok, false)
	if err != nil {
		return err
	}
	defer u.Close()
	rs, err := u.Remotes()
	if err != nil {
		return err
	}
	return printRemotes(c.OutOrStdout(), rs, o.json)
}

func printRemotes(out io.Writer, rs []*remote.Settings, asJSON bool) error {
	if asJSON {
		list := make([]remote.Public, 0, len(rs))
		for _, s := range rs {
			list = append(list, s.Public())
		}
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(b))
		return nil
	}
	if len(rs) == 0 {
		fmt.Fprintln(out, tr.T("cli.remote.none_yet", "travelkit remote add --target T NAME LOCATION"))
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, tr.T("cli.remote.header"))
	for _, s := range rs {
		p := s.Public()
		creds := strings.Join(p.Credentials, ", ")
		if creds == "" {
			creds = tr.T("cli.remote.no_credentials")
		}
		hk := p.HostKey
		if hk == "" {
			hk = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", termsafe.Name(p.Name), termsafe.Name(p.Location), hk, creds, p.Added.Local().Format("2006-01-02"))
	}
	return tw.Flush()
}

type remoteRemoveOptions struct {
	kit kitFlags
}

func newRemoteRemoveCmd() *cobra.Command {
	var o remoteRemoveOptions
	c := &cobra.Command{
		Use:  "remove --target T NAME",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runRemoteRemove(c, &o, args[0])
		},
	}
	o.kit.register(c.Flags())
	return c
}

func runRemoteRemove(c *cobra.Command, o *remoteRemoveOptions, name string) (err error) {
	if err := remote.ValidName(name); err != nil {
		return usageErrorf("%v", err)
	}
	ok, err := openKit(o.kit.target, true)
	if err != nil {
		return err
	}
	defer closeWritten(ok, &err)
	u, err := o.kit.unlock(ok, true)
	if err != nil {
		return err
	}
	s, err := u.Remote(name)
	if err == nil {
		err = u.RemoveRemote(name)
	}
	if cerr := u.Close(); err == nil && cerr != nil {
		err = causeT(cerr, "cli.change.close_failed")
	}
	if errors.Is(err, drive.ErrNoRemote) {
		return withCodeT(ExitUsage, err, "cli.remote.list_hint", "travelkit remote list")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(c.OutOrStdout(), tr.T("cli.remote.removed", name, termsafe.Name(s.Location.String())))
	return nil
}

// markOffSite rewrites the tools partition so that the RESTORE pages say the kit is copied
// off-site; false when they said so already.
func markOffSite(ctx context.Context, d *drive.Drive, u *drive.Unlocked, rk []byte) (bool, error) {
	s, err := builder.NewSession(d, u, string(rk), time.Now())
	if err != nil {
		return false, err
	}
	res, err := s.MarkOffSite(ctx)
	return res != nil, err
}
