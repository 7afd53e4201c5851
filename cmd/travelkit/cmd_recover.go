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
		Use:   "recover [--target T] (--identity FILE | --share-file FILE)... [--recovery-key-file OUT]",
		Short: "Rebuild a kit's recovery key from colleagues' escrow",
		Long: `Rebuild the recovery key of a kit from its escrow, as colleagues do it: each --identity
opens that colleague's escrow file (on the kit's tools partition with --target, or given
with --escrow-file from a hand-over copy), and each --share-file is a share a colleague
decrypted on their own computer (the line ` + "`age -d -i KEY FILE`" + ` printed). With a k-of-n
escrow, k of them are needed; with fewer, travelkit says how many more and whose escrow
files exist.

With --target the rebuilt key is checked against the kit before it is written to
--recovery-key-file (or shown once on the terminal). To unlock straight away instead, give
the same --identity and --share-file flags to the command you need (restore, verify,
files, keys ...).

Without travelkit: age -d -i me.key kit.age on each colleague's computer, then give the
lines to ssss-combine -t K.`,
		Example: `  travelkit recover --target /dev/sdb --identity ana.key --share-file bo.share --recovery-key-file amina.recovery
  travelkit recover --escrow-file handover/ana.age --identity ana.key --share-file bo.share`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRecover(&o) },
	}
	c.Flags().StringVar(&o.kit.target, "target", "", "the kit: an image `file` or a disk; its escrow files and threshold are used, and the key is checked against it")
	c.Flags().StringArrayVar(&o.kit.identities, "identity", nil, "a colleague's age identity `file` (repeatable)")
	c.Flags().StringArrayVar(&o.kit.shareFiles, "share-file", nil, "a share already decrypted (`file` with the ssss line); repeatable")
	c.Flags().StringArrayVar(&o.escrowFiles, "escrow-file", nil, "an escrow `file` from a hand-over copy (--escrow-dir), opened with --identity; repeatable")
	c.Flags().StringVar(&o.outFile, "recovery-key-file", "", "write the rebuilt recovery key (and a newline) to this new `file`")
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
		err = runWithNote("Checking the key against the kit (key derivation)", func() error {
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
