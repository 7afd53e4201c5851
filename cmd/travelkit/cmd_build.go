package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/spf13/cobra"

	"travelkit/builder"
	"travelkit/internal/termsafe"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/profile"
	"travelkit/register"
	"travelkit/target"
	"travelkit/tpm"
)

type buildOptions struct {
	planFlags
	passFile     string
	recoveryFile string
	escrowDir    string
	yes, json    bool
	wipe         bool
	tpmDev       string
	pinFile      string
	registerFile string
	allowWeak    bool
}

func newBuildCmd() *cobra.Command {
	var o buildOptions
	c := &cobra.Command{
		Use:  "build --profile P --target T [--size SIZE] [--passphrase-file F] [--recovery-key-file OUT] [--escrow-dir DIR] [--yes]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runBuild(cmd, &o) },
	}
	o.register(c)
	c.Flags().StringVar(&o.passFile, "passphrase-file", "", "")
	c.Flags().StringVar(&o.recoveryFile, "recovery-key-file", "", "")
	c.Flags().StringVar(&o.escrowDir, "escrow-dir", "", "")
	c.Flags().BoolVar(&o.yes, "yes", false, "")
	c.Flags().BoolVar(&o.json, "json", false, "")
	c.Flags().StringVar(&o.tpmDev, "tpm", "auto", "")
	c.Flags().StringVar(&o.pinFile, "pin-file", "", "")
	c.Flags().BoolVar(&o.wipe, "wipe", false, "")
	c.Flags().BoolVar(&o.allowWeak, "allow-weak-passphrase", false, "")
	c.Flags().StringVar(&o.registerFile, "register", "", "")
	return c
}

func runBuild(c *cobra.Command, o *buildOptions) error {
	plan, err := o.plan()
	if err != nil {
		return err
	}
	if o.recoveryFile != "" && plan.Config.RecoveryKey {
		if _, err := os.Stat(o.recoveryFile); err == nil {
			return withCodeT(ExitRefused, errorT("cli.change.exists", "--recovery-key-file", o.recoveryFile), "cli.change.exists_hint")
		}
	}
	if !o.json || !o.yes {
		plan.PrintIn(os.Stderr, tr)
		fmt.Fprintln(os.Stderr)
	}
	if !o.yes {
		what := tr.T("cli.build.confirm", o.target)
		if len(plan.Destroys) > 0 {
			what = tr.T("cli.build.confirm_destroys", o.target)
		}
		if err := confirm(what, "--yes"); err != nil {
			return err
		}
	}
	pass, err := getNewSecret(o.passFile, "passphrase file", tr.T("cli.prompt.new_kit"))
	if err != nil {
		return err
	}
	defer clear(pass)
	// The passphrase is judged against the unlock cost its keyslot will get: calibrated
	// now (once; the format then uses exactly these costs), before anything is written.
	keyBytes := plan.Config.LUKS.KeySize
	if keyBytes == 0 {
		keyBytes = luks.DefaultKeySize
	}
	cost, err := plan.Config.LUKS.PBKDF.Resolve(keyBytes)
	if err != nil {
		return withCodeT(ExitUsage, err, "cli.build.costs_hint", "[luks]")
	}
	plan.Config.LUKS.PBKDF = cost
	if err := checkNewPassphrase(pass, cost, keyBytes, []string{plan.Config.Name}, o.allowWeak); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var bar *progress
	var barStage string
	prog := func(stage string, done, total int64) {
		if stage != barStage {
			if bar != nil {
				bar.Done()
			}
			barStage = stage
			bar = newProgress(stageLabel(stage), total)
		}
		if total > 0 {
			bar.done.Store(done)
		}
	}
	bo := builder.BuildOptions{Passphrase: pass, Wipe: o.wipe, EscrowDir: o.escrowDir, Progress: prog}
	if plan.Config.TPM {
		bo.TPM = &builder.TPMEnrolment{Prepare: func() (*tpm.TPM, tpm.SealOptions, error) {
			if bar != nil {
				bar.Done()
				bar, barStage = nil, ""
			}
			return prepareTPM(o.loaded, o.tpmDev, o.pinFile)
		}}
	}
	res, err := builder.Build(ctx, plan, bo)
	if bar != nil {
		bar.Done()
	}
	var tpmErr *builder.TPMError
	if errors.As(err, &tpmErr) {
		err = nil // the kit is built: the recovery key is shown and saved first
	}
	if err != nil {
		if ctx.Err() != nil {
			return withCode(ExitInterrupted, err, "")
		}
		var re *target.RefusedError
		if errors.As(err, &re) {
			return targetError(err)
		}
		return causeT(err, "cli.build.failed", o.target)
	}
	if res.RecoveryKey != "" {
		if o.recoveryFile != "" {
			if err := writeNewFile(o.recoveryFile, []byte(res.RecoveryKey+"\n"), 0o600); err != nil {
				return err
			}
		}
		if isTerminal() {
			fmt.Fprintf(os.Stderr, "\n%s\n\n    %s\n\n", tr.T("cli.build.recovery_key"), res.RecoveryKey)
		} else if o.recoveryFile == "" {
			fmt.Fprintln(os.Stderr, tr.T("cli.build.not_shown"))
		}
	}
	if o.registerFile != "" {
		m, err := kit.ParseManifest(res.Manifest)
		if err != nil {
			return err
		}
		if err := appendRegister(o.registerFile, register.Build, m, plan.Config.Name); err != nil {
			return err
		}
	}
	if tpmErr != nil {
		return causeT(tpmError(tpmErr.Err), "cli.build.tpm_failed", "travelkit tpm enroll")
	}
	if res.TPMToken != nil {
		fmt.Fprintln(os.Stderr, tr.T("cli.build.tpm_bound", tokenText(res.TPMToken)))
	}
	if o.json {
		out := struct {
			*builder.Result
			RecoveryKeyFile string `json:"recovery_key_file,omitempty"`
		}{res, absOrEmpty(o.recoveryFile)}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	}
	fmt.Fprintln(os.Stderr, tr.T("cli.build.done", termsafe.Name(res.KitID), res.Target, res.LUKSUUID, res.Files))
	for _, e := range res.EscrowFiles {
		fmt.Fprintln(os.Stderr, tr.T("cli.build.escrow_file", e))
	}
	return nil
}

func absOrEmpty(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// prepareTPM opens the TPM for a kit bound at build time, as the profile's [tpm] table
// asks (PCRs, PIN or not), checks that it can seal, and reads the new PIN.
func prepareTPM(p *profile.Profile, dev, pinFile string) (*tpm.TPM, tpm.SealOptions, error) {
	opts := tpm.SealOptions{PCRs: p.TPM.PCRs}
	if opts.PCRs == nil {
		opts.PCRs = []int{}
	}
	t, err := openTPM(dev)
	if err != nil {
		return nil, opts, err
	}
	// On the error paths below the TPM was only asked questions: closing it cannot fail in
	// a way that matters.
	if err := t.CheckSupport(opts.PCRs); err != nil {
		t.Close()
		return nil, opts, tpmError(err)
	}
	if p.TPM.PIN {
		if opts.PIN, err = readPIN(pinFile, true); err != nil {
			t.Close()
			return nil, opts, err
		}
		pinSaltFor(&opts)
	}
	return t, opts, nil
}
