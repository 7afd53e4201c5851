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
		return withCode(ExitWrongKey, err, "travelkit tpm reseal --target T --passphrase-file F")
	case errors.As(err, &pin), errors.As(err, &lock):
		return withCode(ExitWrongKey, err, "")
	case errors.As(err, &wrong):
		return withCode(ExitWrongKey, err, "this kit was bound to another machine's TPM, or the TPM was cleared: unlock with the passphrase or recovery key")
	case errors.As(err, &miss), errors.Is(err, tpm.ErrNoTPM):
		return withCode(ExitError, err, "unlock with the passphrase or the recovery key instead")
	case errors.Is(err, tpmbind.ErrNotBound):
		return withCode(ExitWrongKey, err, "enrol with travelkit tpm enroll, or unlock with the passphrase")
	}
	return err
}

// pinSaltFor decides how the PIN is turned into the TPM auth value: salted (tpm2_salt) as
// systemd 253 and later expect, or unsalted for an older systemd on this laptop, so that
// systemd-cryptsetup can still unlock the drive natively.
func pinSaltFor(opts *tpm.SealOptions) {
	if v := tpmbind.SystemdVersion(); v > 0 && v < tpmbind.SaltedPINSystemd && len(opts.PIN) > 0 {
		opts.UnsaltedPIN = true
		fmt.Fprintf(os.Stderr, "travelkit: note: systemd %d on this machine predates salted TPM PINs; the PIN is bound unsalted so systemd-cryptsetup can use it\n", v)
	}
}

// readPIN reads a PIN from --pin-file (byte for byte) or asks on the terminal.
func readPIN(pinFile string, confirm bool) ([]byte, error) {
	if pinFile != "" {
		return readSecretFile(pinFile, "PIN file")
	}
	p, err := promptSecret(tr.T("cli.prompt.tpm_pin"), confirm)
	if err != nil {
		return nil, fmt.Errorf("%w (or give --pin-file)", err)
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
