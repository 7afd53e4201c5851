package main

import (
	"errors"
	"fmt"
	"os"

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
