package tpmbind

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"travelkit/luks"
	"travelkit/tpm"
)

// ErrNotBound says that the volume has no TPM2 binding.
var ErrNotBound = errors.New("this kit is not bound to a TPM")

// Binding is one systemd-tpm2 token of a volume, with its PCR record when there is one.
type Binding struct {
	TokenID  int        // id of the systemd-tpm2 token
	Token    *tpm.Token // its keyslots, PCRs and PIN setting
	RecordID int        // id of the PCR record token, -1 if none
	Record   *tpm.PCRRecord
}

// keyslotPBKDF is the cost of keyslots opened by a TPM-sealed secret: the secret has 256
// bits of entropy, so like systemd-cryptenroll travelkit uses a minimal PBKDF2.
func keyslotPBKDF() luks.PBKDF {
	return luks.PBKDF{Type: "pbkdf2", Hash: "sha512", Iterations: 1000}
}

// List returns the volume's TPM2 bindings. Tokens that do not parse are left out: they
// cannot be unsealed, and cryptsetup keeps them as they are.
func List(c *luks.Container) []Binding {
	var out []Binding
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
		b := Binding{TokenID: t.ID, Token: tok, RecordID: -1}
		for _, r := range recs {
			if rec, err := tpm.ParsePCRRecord(r.JSON); err == nil && rec.Applies(tok) {
				b.RecordID, b.Record = r.ID, rec
				if tok.PCRValues == nil {
					tok.PCRValues = rec.Values
				}
			}
		}
		out = append(out, b)
	}
	return out
}

// Enrol seals a fresh secret to t with opts and adds to the volume its keyslot (opened by
// the volume key vk), its systemd-tpm2 token and its PCR record. It returns the new
// keyslot. When the token cannot be stored the keyslot is removed again; when only the
// PCR record cannot be stored, the binding works and the error says so.
func Enrol(c *luks.Container, vk *luks.VolumeKey, t *tpm.TPM, opts tpm.SealOptions) (int, *tpm.Sealed, error) {
	sealed, err := t.Seal(opts)
	if err != nil {
		return -1, nil, err
	}
	return add(c, vk, sealed)
}

// add stores a sealed secret: keyslot, systemd-tpm2 token, PCR record.
func add(c *luks.Container, vk *luks.VolumeKey, sealed *tpm.Sealed) (int, *tpm.Sealed, error) {
	pass := sealed.Passphrase()
	defer clear(pass)
	slot, err := c.AddKeyslot(vk, pass, -1, keyslotPBKDF())
	clear(sealed.Secret)
	if err != nil {
		return -1, nil, fmt.Errorf("adding the TPM keyslot: %w", err)
	}
	sealed.Token.SetKeyslot(slot)
	if _, err := c.AddToken(-1, sealed.Token.JSON()); err != nil {
		// Without its token the keyslot is a secret nobody can find again: remove it.
		if rerr := c.RemoveKeyslot(slot, true); rerr != nil {
			return -1, nil, fmt.Errorf("storing the systemd-tpm2 token: %w (and keyslot %d, now unusable, could not be removed: %v)", err, slot, rerr)
		}
		return -1, nil, fmt.Errorf("storing the systemd-tpm2 token: %w", err)
	}
	if _, err := c.AddToken(-1, sealed.PCRRecord().JSON()); err != nil {
		return slot, sealed, fmt.Errorf("storing the PCR record: %w", err)
	}
	return slot, sealed, nil
}

// Reseal replaces binding b with one sealed to t's current PCR values, with the same PCRs
// and PIN setting (pin is the PIN when b has one). The new binding is stored before the
// old one goes, so the volume is never without one.
func Reseal(c *luks.Container, vk *luks.VolumeKey, t *tpm.TPM, b Binding, pin []byte) (int, *tpm.Sealed, error) {
	sealed, err := t.Reseal(b.Token, pin)
	if err != nil {
		return -1, nil, err
	}
	slot, sealed, err := add(c, vk, sealed)
	if err != nil {
		return slot, sealed, err
	}
	return slot, sealed, Drop(c, b)
}

// Drop removes binding b: its PCR record, its token and its keyslots (never the last
// keyslot of the volume).
func Drop(c *luks.Container, b Binding) error {
	if b.RecordID >= 0 {
		// The record only explains refusals; a record left behind (or already gone) is
		// harmless, since List matches records to tokens by keyslot.
		if err := c.RemoveToken(b.RecordID); err != nil && !errors.Is(err, luks.ErrNoSuchToken) {
			return err
		}
	}
	if err := c.RemoveToken(b.TokenID); err != nil {
		return err
	}
	for _, s := range b.Token.Keyslots {
		if err := c.RemoveKeyslot(s, false); err != nil && !errors.Is(err, luks.ErrNoSuchKeyslot) {
			return err
		}
	}
	return nil
}

// Unseal tries each binding with t and returns the keyslot passphrase and its keyslot
// (-1 when the token names none). The policy is checked before the PIN is asked (pin is
// called only for bindings with a PIN), so a PCR change costs no PIN attempt. The error of
// the last binding tried is returned when none unseals.
func Unseal(t *tpm.TPM, bs []Binding, pin func() ([]byte, error)) ([]byte, int, error) {
	if len(bs) == 0 {
		return nil, -1, ErrNotBound
	}
	var lastErr error
	for _, b := range bs {
		if err := t.CheckPolicy(b.Token); err != nil {
			lastErr = err
			continue
		}
		var p []byte
		if b.Token.PIN {
			var err error
			if p, err = pin(); err != nil {
				return nil, -1, err
			}
		}
		secret, err := t.Unseal(b.Token, p)
		clear(p)
		if err != nil {
			lastErr = err
			continue
		}
		pass := tpm.Passphrase(secret)
		clear(secret)
		slot := -1
		if len(b.Token.Keyslots) > 0 {
			slot = b.Token.Keyslots[0]
		}
		return pass, slot, nil
	}
	return nil, -1, lastErr
}

// SaltedPINSystemd is the first systemd version that salts TPM PINs (tpm2_salt).
const SaltedPINSystemd = 253

// SystemdVersion returns the version of the systemd on this machine, 0 when there is none.
// An enrolment with a PIN is made unsalted when it is below SaltedPINSystemd, so that
// systemd-cryptsetup on this laptop can still unlock the drive natively.
func SystemdVersion() int {
	out, err := exec.Command("systemctl", "--version").Output()
	if err != nil {
		return 0
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || f[0] != "systemd" {
		return 0
	}
	v, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return v
}
