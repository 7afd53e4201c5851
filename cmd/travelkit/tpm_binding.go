package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"travelkit/luks"
	"travelkit/tpm"
)

// tpmBinding is one systemd-tpm2 token of a kit with its PCR record, if any.
type tpmBinding struct {
	id     int // token id
	tok    *tpm.Token
	recID  int // token id of the PCR record, -1 if none
	record *tpm.PCRRecord
}

// tpmBindings lists the kit's TPM2 bindings.
func tpmBindings(c *luks.Container) []tpmBinding {
	var out []tpmBinding
	var recs []luks.Token
	for _, t := range c.Tokens() {
		if t.Type == tpm.PCRRecordType {
			recs = append(recs, t)
		}
	}
	for _, t := range c.Tokens() {
		if t.Type != tpm.TokenType {
			continue
		}
		tok, err := tpm.ParseToken(t.JSON)
		if err != nil {
			continue
		}
		b := tpmBinding{id: t.ID, tok: tok, recID: -1}
		for _, r := range recs {
			if rec, err := tpm.ParsePCRRecord(r.JSON); err == nil && rec.Applies(tok) {
				b.recID, b.record = r.ID, rec
				if tok.PCRValues == nil {
					tok.PCRValues = rec.Values
				}
			}
		}
		out = append(out, b)
	}
	return out
}

// tpmKeyslotPBKDF is the cost of keyslots opened by a TPM-sealed secret: the secret has
// 256 bits of entropy, so like systemd-cryptenroll travelkit uses a minimal PBKDF2.
var tpmKeyslotPBKDF = luks.PBKDF{Type: "pbkdf2", Hash: "sha512", Iterations: 1000}

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
	}
	return err
}

// systemdVersion returns the version of the systemd on this machine (0 when there is none).
func systemdVersion() int {
	out, err := exec.Command("systemctl", "--version").Output()
	if err != nil {
		return 0
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || f[0] != "systemd" {
		return 0
	}
	v, _ := strconv.Atoi(f[1])
	return v
}

// pinSaltFor decides how the PIN is turned into the TPM auth value: salted (tpm2_salt) as
// systemd 253 and later expect, or unsalted for an older systemd on this laptop, so that
// systemd-cryptsetup can still unlock the drive natively.
func pinSaltFor(opts *tpm.SealOptions) {
	if v := systemdVersion(); v > 0 && v < 253 && len(opts.PIN) > 0 {
		opts.UnsaltedPIN = true
		fmt.Fprintf(os.Stderr, "travelkit: note: systemd %d on this machine predates salted TPM PINs; the PIN is bound unsalted so systemd-cryptsetup can use it\n", v)
	}
}

// readPIN reads a PIN from --pin-file (byte for byte) or asks on the terminal.
func readPIN(pinFile string, confirm bool) ([]byte, error) {
	if pinFile != "" {
		return readSecretFile(pinFile, "PIN file")
	}
	p, err := promptSecret("TPM PIN", confirm)
	if err != nil {
		return nil, fmt.Errorf("%w (or give --pin-file)", err)
	}
	return p, nil
}

// unsealKit tries each TPM binding of the kit and returns the keyslot passphrase and slot.
func unsealKit(c *luks.Container, spec, pinFile string) ([]byte, int, error) {
	bs := tpmBindings(c)
	if len(bs) == 0 {
		return nil, -1, withCode(ExitWrongKey, errors.New("this kit is not bound to a TPM"), "enrol with travelkit tpm enroll, or unlock with the passphrase")
	}
	t, err := openTPM(spec)
	if err != nil {
		return nil, -1, err
	}
	defer t.Close()
	var lastErr error
	for _, b := range bs {
		// The policy is checked first, without a PIN, so a PCR change costs no PIN attempt.
		if err := t.CheckPolicy(b.tok); err != nil {
			lastErr = err
			continue
		}
		var pin []byte
		if b.tok.PIN {
			if pin, err = readPIN(pinFile, false); err != nil {
				return nil, -1, err
			}
		}
		secret, err := t.Unseal(b.tok, pin)
		clear(pin)
		if err != nil {
			lastErr = err
			continue
		}
		pass := tpm.Passphrase(secret)
		clear(secret)
		slot := -1
		if len(b.tok.Keyslots) > 0 {
			slot = b.tok.Keyslots[0]
		}
		return pass, slot, nil
	}
	return nil, -1, tpmError(lastErr)
}
