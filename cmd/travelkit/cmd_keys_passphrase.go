package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"travelkit/register"
)

type keysPassphraseOptions struct {
	kit          kitFlags
	newPassFile  string
	escrowDir    string
	registerFile string
	json         bool
	allowWeak    bool
}

func newKeysPassphraseCmd() *cobra.Command {
	var o keysPassphraseOptions
	c := &cobra.Command{
		Use:   "passphrase --target T",
		Short: "Change the kit passphrase (keyslot 0)",
		Long: `Change the kit passphrase, in keyslot 0. Unlock with the current passphrase, the
recovery key or colleagues' escrow (a forgotten passphrase); the new passphrase is asked
twice on the terminal, or read byte for byte from --new-passphrase-file. It is judged
against 100 graphics cards at the kit's own unlock cost and refused when it would hold
out less than a year (--allow-weak-passphrase changes it anyway).

The keyslot is replaced in one step: an interruption leaves the old passphrase or the new
one working. The header backups are written anew (an old header backup still opens with
the old passphrase: replace the colleagues' escrow copy with the one written to
--escrow-dir).`,
		Example: `  travelkit keys passphrase --target /dev/sdb
  travelkit keys passphrase --target kit.img --passphrase-file old.txt --new-passphrase-file new.txt --escrow-dir handover/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runKeysPassphrase(cmd, &o) },
	}
	o.kit.registerSecret(c.Flags())
	c.Flags().StringVar(&o.newPassFile, "new-passphrase-file", "", "read the new passphrase from `file`, byte for byte (default: asked twice on the terminal)")
	c.Flags().StringVar(&o.escrowDir, "escrow-dir", "", "also write the new escrowed header backup as DIR/luks-header.age, for hand-over")
	c.Flags().StringVar(&o.registerFile, "register", "", "append the change to this register `file` (one JSON line, no secrets)")
	c.Flags().BoolVar(&o.allowWeak, "allow-weak-passphrase", false, "change it even when the new passphrase would not hold out a year against 100 graphics cards at this kit's unlock cost (see README)")
	c.Flags().BoolVar(&o.json, "json", false, "print a machine-readable summary on standard output")
	return c
}

func runKeysPassphrase(c *cobra.Command, o *keysPassphraseOptions) error {
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
	newPass, err := getSecret(o.newPassFile, tr.T("cli.keys.new_passphrase_file"), tr.T("cli.prompt.new_kit"), true)
	if err != nil {
		return err
	}
	defer clear(newPass)
	slot, err := s.PassphraseKeyslot()
	if err != nil {
		return err
	}
	if err := checkNewPassphrase(c, newPass, slot.PBKDF, slot.KeySize, []string{s.Manifest().KitID}, o.allowWeak); err != nil {
		return err
	}
	prog, done := stageProgress()
	s.Progress = prog
	var res *builderChange
	err = interruptible(func(ctx context.Context) error {
		r, err := s.ChangePassphrase(ctx, newPass, o.escrowDir)
		res = r
		return err
	})
	done()
	if err != nil {
		return causeT(err, "cli.keys.passphrase_failed", o.kit.target)
	}
	if err := finishChange(closeVol, o.registerFile, register.Passphrase, res); err != nil {
		return err
	}
	if o.json {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	printChange(tr.T("cli.keys.passphrase_done"), res, o.kit.target)
	return nil
}
