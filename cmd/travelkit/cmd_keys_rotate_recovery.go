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
	fs.StringVar(&o.kit.target, "target", "", "")
	fs.StringVar(&o.kit.passFile, "passphrase-file", "", "")
	fs.StringVar(&o.oldKeyFile, "old-recovery-key-file", "", "")
	fs.StringArrayVar(&o.kit.identities, "identity", nil, "")
	fs.StringArrayVar(&o.kit.shareFiles, "share-file", nil, "")
	fs.StringVar(&o.escrowDir, "escrow-dir", "", "")
	fs.StringVar(&o.outFile, "recovery-key-file", "", "")
	fs.StringVar(&o.registerFile, "register", "", "")
	fs.BoolVar(&o.yes, "yes", false, "")
	fs.BoolVar(&o.json, "json", false, "")
}

func newKeysRotateRecoveryCmd() *cobra.Command {
	o := keysRotateOptions{event: register.RotateRecovery}
	c := &cobra.Command{
		Use:  "rotate-recovery --target T [--profile P] [--escrow-dir DIR] [--recovery-key-file OUT] [--yes]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runKeysRotate(&o) },
	}
	o.registerFlags(c.Flags())
	c.Flags().StringVar(&o.profile, "profile", "", "")
	return c
}

func runKeysRotate(o *keysRotateOptions) error {
	if err := checkNewFile(o.outFile, "--recovery-key-file"); err != nil {
		return err
	}
	if o.outFile == "" && !isTerminal() {
		return usageErrorT("cli.keys.rotate_where")
	}
	escrow, err := changeProfile(o.profile)
	if err != nil {
		return err
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
	if err := checkChangeProfile(escrow, m, o.kit.target); err != nil {
		return err
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
