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
		Use:  "passphrase --target T",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runKeysPassphrase(cmd, &o) },
	}
	o.kit.registerSecret(c.Flags())
	c.Flags().StringVar(&o.newPassFile, "new-passphrase-file", "", "")
	c.Flags().StringVar(&o.escrowDir, "escrow-dir", "", "")
	c.Flags().StringVar(&o.registerFile, "register", "", "")
	c.Flags().BoolVar(&o.allowWeak, "allow-weak-passphrase", false, "")
	c.Flags().BoolVar(&o.json, "json", false, "")
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
	newPass, err := getNewSecret(o.newPassFile, tr.T("cli.keys.new_passphrase_file"), tr.T("cli.prompt.new_kit"))
	if err != nil {
		return err
	}
	defer clear(newPass)
	slot, err := s.PassphraseKeyslot()
	if err != nil {
		return err
	}
	if err := checkNewPassphrase(newPass, slot.PBKDF, slot.KeySize, []string{s.Manifest().KitID}, o.allowWeak); err != nil {
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
