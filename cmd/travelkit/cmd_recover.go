package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/luks"
)

type recoverOptions struct {
	kit         kitFlags
	escrowFiles []string
	outFile     string
}

func newRecoverCmd() *cobra.Command {
	var o recoverOptions
	c := &cobra.Command{
		Use:  "recover [--target T] (--identity FILE | --share-file FILE)... [--recovery-key-file OUT]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRecover(&o) },
	}
	c.Flags().StringVar(&o.kit.target, "target", "", "")
	c.Flags().StringArrayVar(&o.kit.identities, "identity", nil, "")
	c.Flags().StringArrayVar(&o.kit.shareFiles, "share-file", nil, "")
	c.Flags().StringArrayVar(&o.escrowFiles, "escrow-file", nil, "")
	c.Flags().StringVar(&o.outFile, "recovery-key-file", "", "")
	return c
}

func runRecover(o *recoverOptions) error {
	if len(o.kit.identities)+len(o.kit.shareFiles) == 0 {
		return usageErrorT("cli.recover.what")
	}
	if err := checkNewFile(o.outFile, "--recovery-key-file"); err != nil {
		return err
	}
	if o.outFile == "" && !isTerminal() {
		return usageErrorT("cli.recover.where")
	}
	ids, shares, err := o.kit.escrowSecrets()
	if err != nil {
		return err
	}
	defer wipeShares(shares)
	esc := &drive.Escrow{Files: map[string][]byte{}, Names: map[int]string{}}
	var k *openedKit
	if o.kit.target != "" {
		if k, err = openKit(o.kit.target, false); err != nil {
			return err
		}
		defer k.Close()
		if e, err := k.d.ReadEscrow(); err == nil {
			esc = e
		}
	}
	for _, p := range o.escrowFiles {
		b, err := readSecretFile(p, "escrow file")
		if err != nil {
			return err
		}
		esc.Files[p] = b
	}
	rk, err := recoveryFromEscrow(esc, ids, shares)
	if err != nil {
		return err
	}
	if k != nil {
		c, err := k.d.Container()
		if err != nil {
			return err
		}
		err = runWithNote(tr.T("cli.kit.checking_key"), func() error {
			vk, _, err := c.Unlock([]byte(rk))
			if err == nil {
				vk.Wipe()
			}
			return err
		})
		if errors.Is(err, luks.ErrWrongPassphrase) {
			return withCodeT(ExitWrongKey, errorT("cli.recover.wrong"), "cli.recover.wrong_hint")
		}
		if err != nil {
			return err
		}
	}
	if o.outFile != "" {
		if err := writeNewFile(o.outFile, []byte(rk+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, tr.T("cli.recover.written", o.outFile))
		return nil
	}
	fmt.Fprintf(os.Stderr, "\n%s\n\n    %s\n\n", tr.T("cli.recover.shown"), rk)
	return nil
}
