package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"travelkit/luks"
	"travelkit/tpm"
	"travelkit/tpmbind"
)

func openTPM(spec string) (*tpm.TPM, error) {
	t, err := tpm.Open(spec)
	if err != nil {
		return nil, tpmError(err)
	}
	return t, nil
}

// tpmError gives TPM failures their exit code and a hint.
func tpmError(err error) error {
	var pcr *tpm.PCRMismatchError
	var pin *tpm.WrongPINError
	var lock *tpm.LockoutError
	var wrong *tpm.WrongTPMError
	var miss *tpm.MissingFeatureError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pcr):
		return withCodeT(ExitWrongKey, err, "cli.tpm.pcr_hint")
	case errors.As(err, &pin), errors.As(err, &lock):
		return withCode(ExitWrongKey, err, "")
	case errors.As(err, &wrong):
		return withCodeT(ExitWrongKey, err, "cli.tpm.other_tpm_hint")
	case errors.As(err, &miss), errors.Is(err, tpm.ErrNoTPM):
		return withCodeT(ExitError, err, "cli.tpm.no_tpm_hint")
	case errors.Is(err, tpmbind.ErrNotBound):
		return withCodeT(ExitWrongKey, err, "cli.tpm.not_bound_hint")
	}
	return err
}

// pinSaltFor decides how the PIN is turned into the TPM auth value: salted (tpm2_salt) as
// systemd 253 and later expect, or unsalted for an older systemd on this laptop, so that
// systemd-cryptsetup can still unlock the drive natively.
func pinSaltFor(opts *tpm.SealOptions) {
	if v := tpmbind.SystemdVersion(); v > 0 && v < tpmbind.SaltedPINSystemd && len(opts.PIN) > 0 {
		opts.UnsaltedPIN = true
		fmt.Fprintln(os.Stderr, tr.T("cli.tpm.unsalted", v))
	}
}

// readPIN reads a PIN from --pin-file (byte for byte) or asks on the terminal.
func readPIN(pinFile string, confirm bool) ([]byte, error) {
	if pinFile != "" {
		return readSecretFile(pinFile, "PIN file")
	}
	p, err := promptSecret(tr.T("cli.prompt.tpm_pin"), confirm)
	if err != nil {
		return nil, wrapT(err, "cli.tpm.pin_file", describeError(err))
	}
	return p, nil
}

// unsealKit unseals the kit's keyslot passphrase with the TPM at spec: it returns the
// passphrase and its keyslot.
func unsealKit(c *luks.Container, spec, pinFile string) ([]byte, int, error) {
	bs := tpmbind.List(c)
	if len(bs) == 0 {
		return nil, -1, tpmError(tpmbind.ErrNotBound)
	}
	t, err := openTPM(spec)
	if err != nil {
		return nil, -1, err
	}
	defer t.Close()
	pass, slot, err := tpmbind.Unseal(t, bs, func() ([]byte, error) { return readPIN(pinFile, false) })
	return pass, slot, tpmError(err)
}

// tokenText says what a TPM binding is in the person's language (tpm.Token's String, with
// "slot" for the keyslot): "slot 2: PCR 7 (Secure Boot state) (sha256 bank), PIN".
func tokenText(t *tpm.Token) string {
	slots := make([]string, len(t.Keyslots))
	for i, k := range t.Keyslots {
		slots[i] = num(k)
	}
	parts := []string{tr.T("cli.tpm.token.no_pcrs")}
	if len(t.PCRs) > 0 {
		pcrs := make([]string, len(t.PCRs))
		for i, p := range t.PCRs {
			pcrs[i] = num(p)
			if p == 7 {
				pcrs[i] = tr.T("cli.tpm.token.secure_boot", pcrs[i])
			}
		}
		bank := t.PCRBank
		if bank == "" {
			bank = "sha256"
		}
		parts[0] = tr.T("cli.tpm.token.pcrs", strings.Join(pcrs, ", "), len(t.PCRs), bank)
	}
	if t.PIN {
		parts = append(parts, tr.T("cli.tpm.token.pin"))
	} else {
		parts = append(parts, tr.T("cli.tpm.token.no_pin"))
	}
	switch {
	case t.SRK != nil:
		parts = append(parts, tr.T("cli.tpm.token.srk"))
	case t.PrimaryAlg != "":
		parts = append(parts, tr.T("cli.tpm.token.primary", t.PrimaryAlg))
	}
	if t.PCRLock || len(t.PubKey) > 0 {
		parts = append(parts, tr.T("cli.tpm.token.signed"))
	}
	return tr.T("cli.tpm.token.text", strings.Join(slots, ", "), strings.Join(parts, tr.T("cli.tpm.token.and")))
}
