package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"travelkit/builder"
	"travelkit/internal/termsafe"
	"travelkit/register"
)

type keysRotateOptions struct {
	kit          kitFlags
	profile      string
	escrowDir    string
	outFile      string
	oldKeyFile   string
	registerFile string
	yes, json    bool
	event        string
}

// registerFlags: rotate-recovery and escrow take --recovery-key-file for the NEW
// key, so the old recovery key (to unlock with) is --old-recovery-key-file.
func (o *keysRotateOptions) registerFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.kit.target, "target", "", "the kit: an image `file` or a disk (/dev/sdb, /dev/disk4, \\\\.\\PhysicalDrive1)")
	fs.StringVar(&o.kit.passFile, "passphrase-file", "", "unlock with the passphrase in `file` (used byte for byte)")
	fs.StringVar(&o.oldKeyFile, "old-recovery-key-file", "", "unlock with the current recovery key in `file`")
	fs.StringArrayVar(&o.kit.identities, "identity", nil, "unlock with colleagues' age identity `file`s (repeatable; k of them with a k-of-n escrow)")
	fs.StringArrayVar(&o.kit.shareFiles, "share-file", nil, "a colleague's share already decrypted (`file` with the ssss line); repeatable")
	fs.StringVar(&o.escrowDir, "escrow-dir", "", "write the new escrow files (DIR/<name>.age) and escrowed header backup (DIR/luks-header.age) for hand-over")
	fs.StringVar(&o.outFile, "recovery-key-file", "", "write the NEW recovery key (and a newline) to this new `file`")
	fs.StringVar(&o.registerFile, "register", "", "append the change to this register `file` (one JSON line, no secrets)")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
	fs.BoolVar(&o.json, "json", false, "print a machine-readable summary on standard output")
}

func newKeysRotateRecoveryCmd() *cobra.Command {
	o := keysRotateOptions{event: register.RotateRecovery}
	c := &cobra.Command{
		Use:   "rotate-recovery --target T [--profile P] [--escrow-dir DIR] [--recovery-key-file OUT] [--yes]",
		Short: "Make a new recovery key, escrow it, then retire the old one",
		Long: `Make a new recovery key in a new keyslot, escrow it to the colleagues of the kit (or of
--profile: its [[escrow]] list and [keys] escrow_threshold), and only then remove the old
recovery keyslot. The old recovery key and every escrow file made for it stop opening the
kit; a repository key made for the old recovery key is replaced by one for the new key.

The new key is written to --recovery-key-file before anything changes (or shown once on the
terminal). Each step is atomic: an interruption leaves a kit that opens with the old
secrets or the new ones. Unlock with the passphrase (--passphrase-file or the terminal),
the current recovery key (--old-recovery-key-file) or colleagues' escrow.`,
		Example: `  travelkit keys rotate-recovery --target /dev/sdb --recovery-key-file amina.recovery.new --escrow-dir handover/
  travelkit keys rotate-recovery --target kit.img --profile amina.toml --passphrase-file pass.txt --recovery-key-file new.key --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runKeysRotate(&o) },
	}
	o.registerFlags(c.Flags())
	c.Flags().StringVar(&o.profile, "profile", "", "take the escrow list and threshold from this profile `file` (default: the kit's own)")
	return c
}

func runKeysRotate(o *keysRotateOptions) error {
	if err := checkNewFile(o.outFile, "--recovery-key-file"); err != nil {
		return err
	}
	if o.outFile == "" && !isTerminal() {
		return usageErrorT("cli.keys.rotate_where")
	}
	var escrow *builder.Config
	if o.profile != "" {
		p, err := loadProfile(o.profile)
		if err != nil {
			return err
		}
		cfg := builderConfig(p)
		escrow = &cfg
	}
	if o.oldKeyFile != "" {
		o.kit.recoveryFile = o.oldKeyFile
	}
	k, err := openWholeKit(o.kit.target)
	if err != nil {
		return err
	}
	defer k.Close()
	s, closeVol, err := changeSession(k, &o.kit)
	if err != nil {
		return err
	}
	defer closeVol()
	m := s.Manifest()
	if escrow != nil && escrow.Name != m.KitID {
		return withCodeT(ExitRefused, errorT("cli.change.other_profile", termsafe.Name(escrow.Name), o.kit.target, termsafe.Name(m.KitID)), "cli.change.other_profile_hint")
	}
	if !o.yes {
		n := len(m.Escrow)
		if escrow != nil {
			n = len(escrow.Escrow)
		}
		q := tr.T("cli.keys.rotate_confirm", termsafe.Name(m.KitID), n)
		if err := confirm(q, "--yes"); err != nil {
			return err
		}
	}
	prog, done := stageProgress()
	s.Progress = prog
	save := func(key string) error {
		if o.outFile != "" {
			return writeNewFile(o.outFile, []byte(key+"\n"), 0o600)
		}
		fmt.Fprintf(os.Stderr, "\n%s\n\n    %s\n\n", tr.T("cli.keys.new_recovery_key"), key)
		return nil
	}
	var res *builderChange
	err = interruptible(func(ctx context.Context) error {
		r, err := s.RotateRecovery(ctx, builder.RotateOptions{Escrow: escrow, SaveKey: save, EscrowDir: o.escrowDir})
		res = r
		return err
	})
	done()
	if err != nil {
		var cli *cliError
		if errors.As(err, &cli) {
			return err
		}
		return causeT(err, "cli.keys.rotate_failed", o.kit.target)
	}
	if err := finishChange(closeVol, o.registerFile, o.event, res); err != nil {
		return err
	}
	if o.json {
		out := struct {
			*builderChange
			RecoveryKeyFile string `json:"recovery_key_file,omitempty"`
		}{res, absOrEmpty(o.outFile)}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	printChange(tr.T("cli.keys.rotate_done"), res, o.kit.target)
	if o.outFile != "" {
		fmt.Fprintln(os.Stderr, tr.T("cli.keys.rotate_file", o.outFile))
	}
	return nil
}
