package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"travelkit/remote"
)

// remoteFlags are the flags that reach a remote location: trust (a private CA, a pinned
// SSH host key) and where credentials are read from. Credentials themselves never come
// from the command line: the environment (restic's names), files, or a prompt.
type remoteFlags struct {
	caCert     string
	hostKey    string
	credFile   string
	sshKey     string
	knownHosts string
}

func (r *remoteFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.caCert, "ca-cert", "", "")
	fs.StringVar(&r.hostKey, "host-key", "", "")
	fs.StringVar(&r.credFile, "credentials-file", "", "")
	fs.StringVar(&r.sshKey, "ssh-key", "", "")
	fs.StringVar(&r.knownHosts, "known-hosts", "", "")
}

// credentials gathers what loc needs: the files named by flags, the environment, and
// on a terminal a prompt for what is still missing.
func (r *remoteFlags) credentials(loc remote.Location) (*remote.Credentials, error) {
	c := &remote.Credentials{HostKey: r.hostKey}
	if r.hostKey != "" && !strings.HasPrefix(r.hostKey, "SHA256:") {
		return nil, usageErrorT("cli.remote.host_key_form", fmt.Sprintf("%q", r.hostKey), "ssh-keygen -l", "SHA256:...")
	}
	if r.hostKey != "" && loc.Kind != remote.SFTP {
		return nil, usageErrorT("cli.remote.host_key_sftp")
	}
	if r.knownHosts != "" {
		c.KnownHosts = []string{r.knownHosts}
	}
	if r.caCert != "" {
		b, err := os.ReadFile(r.caCert)
		if err != nil {
			return nil, usageErrorT("cli.remote.ca_cert", err)
		}
		c.CACert = b
	}
	if r.sshKey != "" {
		b, err := readSecretFile(r.sshKey, tr.T("cli.remote.ssh_key_file"))
		if err != nil {
			return nil, err
		}
		c.SSHKey = b
	}
	if r.credFile != "" {
		b, err := readSecretFile(r.credFile, tr.T("cli.remote.credentials_file"))
		if err != nil {
			return nil, err
		}
		err = c.FromFile(b)
		clear(b)
		if err != nil {
			return nil, usageErrorf("%s: %v", r.credFile, err)
		}
	}
	c.FromEnv(loc.Kind, os.Getenv)
	if loc.Kind == remote.S3 && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
		f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
		if f == "" {
			if home, err := os.UserHomeDir(); err == nil {
				f = filepath.Join(home, ".aws", "credentials")
			}
		}
		if b, err := os.ReadFile(f); err == nil {
			c.FromAWSFile(b, os.Getenv("AWS_PROFILE"))
			clear(b)
		}
	}
	switch loc.Kind {
	case remote.S3:
		if c.AccessKeyID == "" && isTerminal() {
			b, err := promptSecret(tr.T("cli.prompt.s3_id"), false)
			if err != nil {
				return nil, err
			}
			c.AccessKeyID = string(b)
		}
		if c.SecretAccessKey == "" && isTerminal() {
			b, err := promptSecret(tr.T("cli.prompt.s3_secret"), false)
			if err != nil {
				return nil, err
			}
			c.SecretAccessKey = string(b)
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, usageErrorT("cli.remote.no_s3_key")
		}
	case remote.REST:
		if (loc.User != "" || c.Username != "") && c.Password == "" && isTerminal() {
			user := loc.User
			if user == "" {
				user = c.Username
			}
			b, err := promptSecret(tr.T("cli.prompt.rest", user), false)
			if err != nil {
				return nil, err
			}
			c.Password = string(b)
		}
	}
	return c, nil
}

// terminalPrompt asks for a secret on the terminal, or is nil without one.
func terminalPrompt() func(string) ([]byte, error) {
	if !isTerminal() {
		return nil
	}
	return func(what string) ([]byte, error) { return promptSecret(what, false) }
}

// openRemote connects to a location, with errors that say what to do.
func openRemote(ctx context.Context, loc remote.Location, cred *remote.Credentials, opt remote.Options) (remote.Storage, error) {
	var st remote.Storage
	err := runWithNote(tr.T("cli.remote.connecting", loc.Host), func() error {
		var err error
		st, err = remote.Open(ctx, loc, cred, opt)
		return err
	})
	if err != nil {
		return nil, remoteError(fmt.Errorf("%s: %w", loc, err))
	}
	return st, nil
}

// remoteError gives the errors of a remote their exit codes and hints.
func remoteError(err error) error {
	var ce *cliError
	if err == nil || errors.As(err, &ce) {
		return err
	}
	var hk *remote.HostKeyError
	switch {
	case errors.As(err, &hk):
		return withCode(ExitRefused, err, hk.Hint())
	case errors.Is(err, remote.ErrUntrusted):
		return withCodeT(ExitRefused, err, "cli.remote.untrusted_hint")
	case errors.Is(err, remote.ErrAuth):
		return withCodeT(ExitWrongKey, err, "cli.remote.auth_hint")
	case errors.Is(err, remote.ErrMissing):
		return withCodeT(ExitRemote, err, "cli.remote.missing_hint")
	case errors.Is(err, remote.ErrUnreachable):
		return withCodeT(ExitRemote, err, "cli.remote.unreachable_hint")
	case errors.Is(err, remote.ErrNoSpace), errors.Is(err, syscall.ENOSPC):
		return withCodeT(ExitNoSpace, err, "cli.remote.no_space_hint")
	case errors.Is(err, remote.ErrOtherRepository):
		return withCodeT(ExitRefused, err, "cli.remote.other_repository_hint")
	case errors.Is(err, remote.ErrRefused):
		return withCode(ExitRefused, err, "")
	}
	return err
}
