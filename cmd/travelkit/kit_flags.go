package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"github.com/spf13/pflag"

	"travelkit/builder"
	"travelkit/drive"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/profile"
	"travelkit/ssss"
	"travelkit/target"
)

// loadProfile reads --profile; "" or "default" is the built-in demo profile.
func loadProfile(path string) (*profile.Profile, error) {
	if path == "" || path == "default" {
		return profile.Default(), nil
	}
	p, err := profile.Load(path)
	if err != nil {
		return nil, withCodeT(ExitUsage, err, "cli.kit.profile_hint", "travelkit profile example")
	}
	return p, nil
}

// builderConfig turns a profile into what the builder needs.
func builderConfig(p *profile.Profile) builder.Config {
	cfg := builder.Config{
		Name:            p.Name,
		Languages:       p.Languages,
		ToolsSize:       p.Drive.ToolsSize,
		RecoveryKey:     p.Keys.RecoveryKey,
		EscrowThreshold: p.Keys.EscrowThreshold,
		Platforms:       p.Tools.Platforms,
		TPM:             p.TPM.Enroll,
		Boot:            builder.Boot{Enable: p.Boot.Enable, Languages: p.Boot.Languages},
		LUKS:            p.FormatOptions(), // the builder sets the label
	}
	for _, e := range p.Escrow {
		cfg.Escrow = append(cfg.Escrow, builder.Escrow{Name: e.Name, Recipient: e.Recipient})
	}
	return cfg
}

// targetError gives safety refusals their exit code and hint.
func targetError(err error) error {
	if err == nil {
		return nil
	}
	var re *target.RefusedError
	if errors.As(err, &re) {
		return refusedError(err, re)
	}
	if errors.Is(err, target.ErrNeedAdmin) {
		return withCodeT(ExitRefused, err, "cli.kit.admin_hint")
	}
	if errors.Is(err, drive.ErrNotKit) {
		return withCodeT(ExitNotLUKS, err, "cli.kit.not_kit_hint")
	}
	return err
}

// refusedError is a safety refusal with its exit code and its hint, in the person's
// language when the target package gave it as a message.
func refusedError(err error, re *target.RefusedError) error {
	if re.HintMsg != nil {
		return &cliError{code: ExitRefused, err: err, hint: re.Hint, hintMsg: re.HintMsg}
	}
	return withCode(ExitRefused, err, re.Hint)
}

// kitFlags are the flags of every command that opens a kit: the target and the ways to unlock it.
type kitFlags struct {
	target       string
	passFile     string
	recoveryFile string
	identities   []string
	shareFiles   []string
	tpmDev       string
	pinFile      string

	// recoveryKey is the recovery key when the secret that unlocked the kit was one (given,
	// typed, or rebuilt from escrow), for key changes that need it.
	recoveryKey string
	// crlf: the passphrase of an unlockEarly ended in CR LF (for verifyKit's hint)
	crlf bool
	// encoding: the passphrase of an unlockEarly was saved as UTF-16 or with a byte order
	// mark (secretFileEncoding), for verifyKit's hint
	encoding string
}

// register registers the kit and every way to unlock it: the secrets and the TPM.
func (k *kitFlags) register(fs *pflag.FlagSet) {
	k.registerSecret(fs)
	fs.StringVar(&k.tpmDev, "tpm", "", "")
	fs.StringVar(&k.pinFile, "pin-file", "", "")
}

// registerSecret registers the kit and the secrets that prove authority over it (for
// changing its keys): no TPM.
func (k *kitFlags) registerSecret(fs *pflag.FlagSet) {
	fs.StringVar(&k.target, "target", "", "")
	fs.StringVar(&k.passFile, "passphrase-file", "", "")
	fs.StringVar(&k.recoveryFile, "recovery-key-file", "", "")
	fs.StringArrayVar(&k.identities, "identity", nil, "")
	fs.StringArrayVar(&k.shareFiles, "share-file", nil, "")
}

// openedKit is a kit's target and drive, open for reading or for writing its data partition.
type openedKit struct {
	tg *target.Target
	d  *drive.Drive
}

func (o *openedKit) Close() error { return o.tg.Close() }

// closeWritten closes a kit opened for writing at the end of a command: a failed close may
// mean the last writes never reached the disk, so its error becomes the command's when the
// command itself succeeded. Use it as `defer closeWritten(o, &err)` with a named result.
func closeWritten(o *openedKit, err *error) {
	if cerr := o.Close(); cerr != nil && *err == nil {
		*err = causeT(cerr, "cli.change.close_failed")
	}
}

// openKit opens a kit's data partition, for writing when write is set.
func openKit(path string, write bool) (*openedKit, error) {
	return openKitWith(path, target.Options{Write: write, Partition: drive.DataPartition})
}

// openKitWith opens the kit at path (--target) with the target options o.
func openKitWith(path string, o target.Options) (*openedKit, error) {
	if path == "" {
		return nil, usageErrorT("cli.change.no_kit")
	}
	tg, err := target.Open(path, o)
	if err != nil {
		return nil, targetError(err)
	}
	d, err := drive.Open(tg)
	if err != nil {
		tg.Close()
		return nil, targetError(fmt.Errorf("%s: %w", path, err))
	}
	return &openedKit{tg: tg, d: d}, nil
}

// secret finds the keyslot passphrase: from --passphrase-file, --recovery-key-file,
// --identity (escrow files on the tools partition), or the terminal.
func (k *kitFlags) secret(d *drive.Drive) ([]byte, error) {
	given := 0
	for _, s := range []bool{k.passFile != "", k.recoveryFile != "", len(k.identities)+len(k.shareFiles) > 0, k.tpmDev != ""} {
		if s {
			given++
		}
	}
	if given > 1 {
		return nil, usageErrorT("cli.kit.one_secret")
	}
	switch {
	case k.passFile != "":
		return readSecretFile(k.passFile, "passphrase file")
	case k.recoveryFile != "":
		b, err := readSecretFile(k.recoveryFile, "recovery key file")
		if err != nil {
			return nil, err
		}
		defer clear(b)
		rk, err := kit.ParseRecoveryKey(string(b))
		if err != nil {
			return nil, withCodeT(ExitWrongKey, fmt.Errorf("%s: %w", k.recoveryFile, err), "cli.unlock.recovery_hint")
		}
		k.recoveryKey = rk
		return []byte(rk), nil
	case len(k.identities)+len(k.shareFiles) > 0:
		rk, err := k.fromEscrow(d)
		if err != nil {
			return nil, err
		}
		k.recoveryKey = rk
		return []byte(rk), nil
	}
	b, err := promptSecret(tr.T("cli.secret.prompt"), false)
	if err != nil {
		return nil, err
	}
	if rk, err := kit.ParseRecoveryKey(string(b)); err == nil {
		clear(b)
		k.recoveryKey = rk
		return []byte(rk), nil
	}
	return b, nil
}

// escrowSecrets reads --identity and --share-file.
func (k *kitFlags) escrowSecrets() ([]age.Identity, []ssss.Share, error) {
	var ids []byte
	for _, p := range k.identities {
		b, err := readSecretFile(p, "identity file")
		if err != nil {
			return nil, nil, err
		}
		ids = append(append(ids, b...), '\n')
		clear(b)
	}
	defer clear(ids)
	var identities []age.Identity
	if len(k.identities) > 0 {
		var err error
		if identities, err = kit.ParseIdentities(ids); err != nil {
			return nil, nil, withCodeT(ExitUsage, causeT(err, "cli.kit.identity"), "cli.kit.identity_hint", "age-keygen")
		}
	}
	var shares []ssss.Share
	for _, p := range k.shareFiles {
		b, err := readSecretFile(p, "share file")
		if err != nil {
			return nil, nil, err
		}
		sh, err := ssss.ParseShares(string(b))
		clear(b)
		if err != nil {
			return nil, nil, withCodeT(ExitUsage, causeT(err, "cli.kit.share_file", p), "cli.kit.share_hint", "age -d -i KEY ESCROW-FILE")
		}
		shares = append(shares, sh...)
	}
	return identities, shares, nil
}

// fromEscrow rebuilds the recovery key from the kit's escrow files that --identity opens
// and the shares of --share-file: one file holding the whole key, or enough shares.
func (k *kitFlags) fromEscrow(d *drive.Drive) (string, error) {
	identities, shares, err := k.escrowSecrets()
	if err != nil {
		return "", err
	}
	defer wipeShares(shares)
	esc, err := d.ReadEscrow()
	if err != nil {
		if len(identities) > 0 {
			return "", withCodeT(ExitWrongKey, causeT(err, "cli.kit.escrow_unreadable"), "cli.kit.own_copy_hint", "age -d -i KEY FILE")
		}
		esc = &drive.Escrow{}
	}
	if len(identities) > 0 && len(esc.Files) == 0 {
		return "", withCodeT(ExitWrongKey, errorT("cli.kit.no_escrow"), "cli.kit.no_escrow_hint", "age -d -i KEY FILE")
	}
	return recoveryFromEscrow(esc, identities, shares)
}

// recoveryFromEscrow gives recovery-key errors their exit codes and hints.
func recoveryFromEscrow(esc *drive.Escrow, identities []age.Identity, shares []ssss.Share) (string, error) {
	rk, err := esc.RecoveryKey(identities, shares)
	var more *drive.SharesNeededError
	switch {
	case err == nil:
		return rk, nil
	case errors.As(err, &more):
		return "", withCodeT(ExitWrongKey, err, "cli.kit.more_shares_hint", "age -d -i KEY FILE")
	case errors.Is(err, drive.ErrNoEscrowOpens):
		return "", withCodeT(ExitWrongKey, err, "cli.kit.wrong_identity_hint")
	}
	return "", withCodeT(ExitWrongKey, err, "cli.kit.wrong_shares_hint")
}

func wipeShares(shares []ssss.Share) {
	for _, s := range shares {
		s.Wipe()
	}
}

// unlock opens the kit's encrypted volume, with the TPM (--tpm) or a secret.
func (k *kitFlags) unlock(o *openedKit, writable bool) (*drive.Unlocked, error) {
	return k.unlockAs(o, writable, false)
}

// unlockEarly is unlock that returns before the keyslot's key is checked against the
// volume key digest (drive.UnlockEarly): the caller reads meanwhile, trusts nothing read
// before verifyKit has returned nil, and calls verifyKit on every path.
func (k *kitFlags) unlockEarly(o *openedKit, writable bool) (*drive.Unlocked, error) {
	return k.unlockAs(o, writable, true)
}

func (k *kitFlags) unlockAs(o *openedKit, writable, early bool) (*drive.Unlocked, error) {
	var pass []byte
	slot := -1
	var err error
	if k.tpmDev != "" {
		if k.passFile != "" || k.recoveryFile != "" || len(k.identities)+len(k.shareFiles) > 0 {
			return nil, usageErrorT("cli.kit.one_secret")
		}
		c, err := o.d.Container()
		if err != nil {
			return nil, err
		}
		pass, slot, err = unsealKit(c, k.tpmDev, k.pinFile)
		if err != nil {
			return nil, err
		}
	} else if pass, err = k.secret(o.d); err != nil {
		return nil, err
	}
	defer clear(pass)
	if early {
		// only a file ends so: the terminal prompt drops the line ending
		k.crlf = bytes.HasSuffix(pass, []byte("\r\n"))
		k.encoding = ""
		if k.passFile != "" {
			k.encoding = secretFileEncoding(pass)
		}
		var u *drive.Unlocked
		err := runWithNote(tr.T("cli.unlock.unlocking"), func() error {
			var err error
			u, err = o.d.UnlockEarly(pass, slot, writable)
			return err
		})
		return u, kitUnlockError(err, k.crlf, k.encoding)
	}
	return unlockWith(o, pass, slot, writable, k.passFile != "")
}

// verifyKit ends an unlockEarly (drive.Unlocked.Verify), with unlock's errors.
func (k *kitFlags) verifyKit(u *drive.Unlocked) (reopened bool, err error) {
	reopened, err = u.Verify()
	return reopened, kitUnlockError(err, k.crlf, k.encoding)
}

// unlockWith opens the kit's encrypted volume with a keyslot passphrase (slot < 0: any);
// fromFile: pass was read from --passphrase-file (for the hint on a wrong one).
func unlockWith(o *openedKit, pass []byte, slot int, writable, fromFile bool) (*drive.Unlocked, error) {
	var u *drive.Unlocked
	err := runWithNote(tr.T("cli.unlock.unlocking"), func() error {
		var err error
		u, err = o.d.Unlock(pass, slot, writable)
		return err
	})
	// only a file ends so: the terminal prompt drops the line ending
	encoding := ""
	if fromFile {
		encoding = secretFileEncoding(pass)
	}
	return u, kitUnlockError(err, bytes.HasSuffix(pass, []byte("\r\n")), encoding)
}

// kitUnlockError is the message for a kit unlock's error; crlf: the passphrase ended in CR LF;
// encoding: the passphrase file was saved as UTF-16 or with a byte order mark (secretFileEncoding).
func kitUnlockError(err error, crlf bool, encoding string) error {
	if errors.Is(err, luks.ErrWrongPassphrase) {
		switch {
		case encoding != "":
			return withCodeT(ExitWrongKey, errorT("cli.unlock.wrong"), "cli.unlock.wrong_encoding_hint", encoding)
		case crlf:
			return withCodeT(ExitWrongKey, errorT("cli.unlock.wrong"), "cli.unlock.wrong_crlf_hint")
		}
		return withCodeT(ExitWrongKey, errorT("cli.unlock.wrong"), "cli.unlock.wrong_hint")
	}
	return err
}

// writeNewFile creates path with the content, refusing to overwrite.
func writeNewFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return withCodeT(ExitRefused, errorT("cli.kit.exists", path), "cli.kit.exists_hint")
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
