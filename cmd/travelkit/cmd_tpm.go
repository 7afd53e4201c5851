package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"travelkit/luks"
	"travelkit/tpm"
	"travelkit/tpmbind"
)

const tpmLong = `Bind a kit to this laptop's TPM2, so that the drive alone is useless: the TPM unseals
a key only on this machine, in its current boot state (PCR 7 by default: Secure Boot),
and, with a PIN (the default), only for someone who knows the PIN. A seized laptop
together with the drive must not unlock it: that is why the PIN is on by default.

The binding is a LUKS2 keyslot plus a token of type systemd-tpm2, exactly as
systemd-cryptenroll writes it, so on that laptop systemd-cryptsetup with
tpm2-device=auto unlocks the drive natively.

Firmware updates and Secure Boot changes change PCR 7: TPM unlock then fails with a
message naming the changed PCRs; unlock with the passphrase or the recovery key and run
` + "`travelkit tpm reseal`" + `. Wrong PINs count towards the TPM's dictionary-attack
lockout: after a few, the TPM refuses every PIN for a while.

--tpm is /dev/tpmrm0 by default on Linux (TBS on Windows); unix:PATH and tcp:HOST:PORT
reach a software TPM (swtpm).`

func newTPMCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "tpm",
	}
	c.AddCommand(newTPMEnrollCmd(), newTPMListCmd(), newTPMUnlockTestCmd(), newTPMResealCmd(), newTPMRemoveCmd())
	return c
}

func parsePCRs(s string) ([]int, error) {
	if s == "" || s == "none" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, "+") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n >= tpm.NumPCRs {
			return nil, usageErrorT("cli.tpm.pcrs", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// unlockForChange opens the kit for writing and unlocks its LUKS header with the
// passphrase or the recovery key (never the TPM: changing the binding needs authority).
func unlockForChange(k *kitFlags) (*openedKit, *luks.Container, *luks.VolumeKey, error) {
	o, err := openKit(k.target, true)
	if err != nil {
		return nil, nil, nil, err
	}
	// On the error paths below nothing was written yet: the close has nothing to lose.
	c, err := o.d.Container()
	if err != nil {
		o.Close()
		return nil, nil, nil, err
	}
	pass, err := k.secret(o.d)
	if err != nil {
		o.Close()
		return nil, nil, nil, err
	}
	defer clear(pass)
	var vk *luks.VolumeKey
	err = runWithNote(tr.T("cli.tpm.unlocking"), func() error {
		var err error
		vk, _, err = c.Unlock(pass)
		return err
	})
	if err != nil {
		o.Close()
		if errors.Is(err, luks.ErrWrongPassphrase) {
			return nil, nil, nil, withCode(ExitWrongKey, wrapT(err, "cli.tpm.wrong"), "")
		}
		return nil, nil, nil, err
	}
	return o, c, vk, nil
}

type tpmEnrollOptions struct {
	kit            kitFlags
	pcrs, dev, pin string
	withPIN, noPIN bool
}

func newTPMEnrollCmd() *cobra.Command {
	var o tpmEnrollOptions
	c := &cobra.Command{
		Use:  "enroll --target T [--passphrase-file F | --recovery-key-file F] [--pcrs 7[+N...]] [--with-pin | --no-pin] [--pin-file F] [--tpm DEV]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTPMEnroll(&o) },
	}
	o.kit.registerSecret(c.Flags())
	c.Flags().StringVar(&o.pcrs, "pcrs", "7", "")
	c.Flags().BoolVar(&o.withPIN, "with-pin", false, "")
	c.Flags().BoolVar(&o.noPIN, "no-pin", false, "")
	c.Flags().StringVar(&o.pin, "pin-file", "", "")
	c.Flags().StringVar(&o.dev, "tpm", "auto", "")
	return c
}

func runTPMEnroll(o *tpmEnrollOptions) (err error) {
	if o.withPIN && o.noPIN {
		return usageErrorT("cli.tpm.pin_exclusive")
	}
	pl, err := parsePCRs(o.pcrs)
	if err != nil {
		return err
	}
	if len(pl) == 0 && o.noPIN {
		return usageErrorT("cli.tpm.open_to_all")
	}
	t, err := openTPM(o.dev)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := t.CheckSupport(pl); err != nil {
		return tpmError(err)
	}
	kt, lc, vk, err := unlockForChange(&o.kit)
	if err != nil {
		return err
	}
	defer closeWritten(kt, &err)
	defer vk.Wipe()
	opts := tpm.SealOptions{PCRs: pl}
	if !o.noPIN {
		if opts.PIN, err = readPIN(o.pin, true); err != nil {
			return err
		}
		defer clear(opts.PIN)
		pinSaltFor(&opts)
	}
	_, sealed, err := tpmbind.Enrol(lc, vk, t, opts)
	if err != nil {
		return tpmError(err)
	}
	fmt.Println(tr.T("cli.tpm.enrolled", tokenText(sealed.Token)))
	return nil
}

func newTPMListCmd() *cobra.Command {
	var target string
	c := &cobra.Command{
		Use:  "list --target T",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTPMList(target) },
	}
	c.Flags().StringVar(&target, "target", "", "")
	return c
}

func runTPMList(target string) error {
	o, err := openKit(target, false)
	if err != nil {
		return err
	}
	defer o.Close()
	lc, err := o.d.Container()
	if err != nil {
		return err
	}
	bs := tpmbind.List(lc)
	if len(bs) == 0 {
		fmt.Println(tr.T("cli.tpm.none"))
		return nil
	}
	for _, b := range bs {
		fmt.Println(tr.T("cli.tpm.item", b.TokenID, tokenText(b.Token)))
		if b.Record != nil {
			fmt.Println("          " + tr.T("cli.tpm.record", b.RecordID))
		}
	}
	return nil
}

func newTPMUnlockTestCmd() *cobra.Command {
	var target, dev, pin string
	c := &cobra.Command{
		Use:  "unlock-test --target T [--pin-file F] [--tpm DEV]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTPMUnlockTest(target, dev, pin) },
	}
	c.Flags().StringVar(&target, "target", "", "")
	c.Flags().StringVar(&pin, "pin-file", "", "")
	c.Flags().StringVar(&dev, "tpm", "auto", "")
	return c
}

func runTPMUnlockTest(target, dev, pin string) error {
	o, err := openKit(target, false)
	if err != nil {
		return err
	}
	defer o.Close()
	lc, err := o.d.Container()
	if err != nil {
		return err
	}
	pass, slot, err := unsealKit(lc, dev, pin)
	if err != nil {
		return err
	}
	defer clear(pass)
	vk, err := lc.UnlockSlot(pass, slot)
	if err != nil {
		return withCodeT(ExitWrongKey, wrapT(err, "cli.tpm.not_accepted", slot, describeError(err)), "cli.tpm.reseal_hint")
	}
	vk.Wipe()
	fmt.Println(tr.T("cli.tpm.unlocks", slot))
	return nil
}

type tpmResealOptions struct {
	kit      kitFlags
	dev, pin string
}

func newTPMResealCmd() *cobra.Command {
	var o tpmResealOptions
	c := &cobra.Command{
		Use:  "reseal --target T [--passphrase-file F | --recovery-key-file F] [--pin-file F] [--tpm DEV]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTPMReseal(&o) },
	}
	o.kit.registerSecret(c.Flags())
	c.Flags().StringVar(&o.pin, "pin-file", "", "")
	c.Flags().StringVar(&o.dev, "tpm", "auto", "")
	return c
}

func runTPMReseal(o *tpmResealOptions) (err error) {
	t, err := openTPM(o.dev)
	if err != nil {
		return err
	}
	defer t.Close()
	kt, lc, vk, err := unlockForChange(&o.kit)
	if err != nil {
		return err
	}
	defer closeWritten(kt, &err)
	defer vk.Wipe()
	bs := tpmbind.List(lc)
	if len(bs) == 0 {
		return withCodeT(ExitError, errorT("cli.tpm.nothing_to_reseal"), "cli.tpm.enroll_hint")
	}
	for _, b := range bs {
		var pin []byte
		if b.Token.PIN {
			if pin, err = readPIN(o.pin, o.pin == ""); err != nil {
				return err
			}
		}
		// The new binding is stored before the old one goes: never a moment without one.
		slot, sealed, err := tpmbind.Reseal(lc, vk, t, b, pin)
		clear(pin)
		if err != nil {
			return tpmError(err)
		}
		fmt.Println(tr.T("cli.tpm.resealed", tokenText(sealed.Token), slot))
	}
	return nil
}

func newTPMRemoveCmd() *cobra.Command {
	var k kitFlags
	c := &cobra.Command{
		Use:  "remove --target T [--passphrase-file F | --recovery-key-file F]",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTPMRemove(&k) },
	}
	k.registerSecret(c.Flags())
	return c
}

func runTPMRemove(k *kitFlags) (err error) {
	o, lc, vk, err := unlockForChange(k)
	if err != nil {
		return err
	}
	defer closeWritten(o, &err)
	vk.Wipe()
	bs := tpmbind.List(lc)
	for _, b := range bs {
		if err := tpmbind.Drop(lc, b); err != nil {
			return err
		}
	}
	fmt.Println(tr.T("cli.tpm.removed", len(bs)))
	return nil
}
