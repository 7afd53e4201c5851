package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"travelkit/drive"
	"travelkit/internal/termsafe"
	"travelkit/internal/version"
)

type verifyReport struct {
	Target string `json:"target"`
	*drive.VerifyReport
}

func newVerifyCmd() *cobra.Command {
	var k kitFlags
	var asJSON bool
	c := &cobra.Command{
		Use:  "verify --target T [--passphrase-file F | --recovery-key-file F | --identity FILE]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runVerify(&k, asJSON) },
	}
	k.register(c.Flags())
	c.Flags().BoolVar(&asJSON, "json", false, "")
	return c
}

func runVerify(k *kitFlags, asJSON bool) error {
	rep, err := verify(k)
	if err != nil && rep == nil {
		return err
	}
	if asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
	} else {
		printVerify(rep)
	}
	if rep.OK {
		return nil
	}
	var lost *drive.LostTableError
	switch {
	case errors.As(err, &lost):
		return withCode(ExitVerifyFail, errorT("cli.verify.failed_err", rep.Target), lost.Advice(k.target))
	case rep.Interrupted:
		return withCodeT(ExitVerifyFail, errorT("cli.verify.incomplete_err", rep.Target), "cli.verify.incomplete_hint")
	}
	return withCodeT(ExitVerifyFail, errorT("cli.verify.failed_err", rep.Target), "cli.verify.failed_hint")
}

// verify opens the kit (unlocked when a secret is given or can be asked for) and checks
// it. When the drive is not a kit, the report says so and err tells why.
func verify(k *kitFlags) (*verifyReport, error) {
	rep := &verifyReport{Target: k.target, VerifyReport: &drive.VerifyReport{}}
	o, err := openKit(k.target, false)
	if err != nil {
		if errors.Is(err, drive.ErrNotKit) {
			rep.Problems = append(rep.Problems, err.Error())
			return rep, err
		}
		return nil, err
	}
	defer o.Close() // opened for reading: closing it loses nothing
	noSecret := k.passFile == "" && k.recoveryFile == "" && len(k.identities)+len(k.shareFiles) == 0 && k.tpmDev == "" && !isTerminal()
	var u *drive.Unlocked
	if !noSecret {
		if u, err = k.unlock(o, false); err != nil {
			return nil, err
		}
		defer u.Close() // unlocked read-only: closing it loses nothing
	}
	if rep.VerifyReport, err = o.d.Verify(u); err != nil {
		return nil, err
	}
	return rep, nil
}

// printVerify prints the report; everything in it that came from the drive is escaped.
func printVerify(r *verifyReport) {
	w := os.Stdout
	if !r.Complete {
		fmt.Fprintln(w, tr.T("cli.verify.not_kit", r.Target))
	} else {
		fmt.Fprintln(w, tr.T("cli.verify.kit", termsafe.Name(r.KitID), r.Target, termsafe.Name(r.LUKSUUID)))
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  "+tr.T("cli.verify.problem", termsafe.Name(p)))
	}
	for _, d := range r.Differences {
		d.Path, d.Detail = termsafe.Name(d.Path), termsafe.Name(d.Detail)
		fmt.Fprintf(w, "  %s\n", d)
	}
	if r.ToolsOlder {
		fmt.Fprintln(w, "  "+tr.T("cli.verify.older", termsafe.Name(r.ToolsVersion), version.Version))
	}
	switch {
	case r.Interrupted:
		fmt.Fprintln(w, tr.T("cli.verify.interrupted"))
	case r.OK && r.Trusted:
		fmt.Fprintln(w, tr.T("cli.verify.ok_trusted"))
	case r.OK:
		fmt.Fprintln(w, tr.T("cli.verify.ok_own"))
	default:
		fmt.Fprintln(w, tr.T("cli.verify.failed"))
	}
}
