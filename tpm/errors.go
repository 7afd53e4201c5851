package tpm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors callers branch on with errors.Is / errors.As.
var (
	// ErrPINRequired: the token needs a PIN and none was given.
	ErrPINRequired = errors.New("this TPM enrolment needs a PIN")
	// ErrUnsupportedToken: the token uses a systemd feature travelkit cannot unseal
	// (signed PCR policies, pcrlock, objects sealed without a TPM).
	ErrUnsupportedToken = errors.New("unsupported systemd-tpm2 token")
)

const reuseAdvice = "Unlock with the passphrase or the recovery key, then run `travelkit tpm reseal` to bind the TPM to this machine's current state."

// PCRMismatchError: the PCRs the secret is bound to do not have the values they had at
// enrolment, so the TPM will not unseal it. Changed lists the PCRs known to differ
// (from the values recorded at enrolment); when nothing was recorded it is nil and
// Candidates lists the PCRs of the policy, one or more of which changed.
type PCRMismatchError struct {
	Bank       string
	Candidates []int
	Changed    []int
}

func (e *PCRMismatchError) Error() string {
	var b strings.Builder
	switch {
	case len(e.Changed) > 0:
		fmt.Fprintf(&b, "TPM unlock refused: %s changed since enrolment (%s bank)", pcrNames(e.Changed), e.Bank)
	case len(e.Candidates) == 1:
		fmt.Fprintf(&b, "TPM unlock refused: %s changed since enrolment (%s bank)", pcrNames(e.Candidates), e.Bank)
	default:
		fmt.Fprintf(&b, "TPM unlock refused: one or more of %s changed since enrolment (%s bank)", pcrNames(e.Candidates), e.Bank)
	}
	b.WriteString(". Firmware updates, Secure Boot changes and booting another system change PCRs. ")
	b.WriteString(reuseAdvice)
	return b.String()
}

func pcrNames(p []int) string {
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = strconv.Itoa(v)
		if v == 7 {
			s[i] += " (Secure Boot state)"
		}
	}
	if len(p) == 1 {
		return "PCR " + s[0]
	}
	return "PCRs " + strings.Join(s, ", ")
}

// DAInfo is the TPM's dictionary-attack state, when it could be read.
type DAInfo struct {
	Known     bool          // false if the TPM did not report it
	Failures  uint32        // TPM_PT_LOCKOUT_COUNTER
	MaxTries  uint32        // TPM_PT_MAX_AUTH_FAIL
	Interval  time.Duration // TPM_PT_LOCKOUT_INTERVAL: one failure is forgotten per interval
	Recovery  time.Duration // TPM_PT_LOCKOUT_RECOVERY: wait after a lockoutAuth failure
	InLockout bool          // TPMA_PERMANENT.inLockout
}

func (d DAInfo) explain() string {
	if !d.Known {
		return "The TPM counts wrong PINs; after too many it locks out all PIN use for a while (its dictionary-attack protection). Do not guess: use the passphrase or the recovery key instead."
	}
	left := int64(d.MaxTries) - int64(d.Failures)
	if left < 0 {
		left = 0
	}
	return fmt.Sprintf("The TPM has counted %d failed attempt(s); at %d it locks out all PIN use (dictionary-attack protection), and it forgets one failure every %s. %d attempt(s) left before lockout. Do not guess: use the passphrase or the recovery key instead.",
		d.Failures, d.MaxTries, d.Interval, left)
}

// WrongPINError: the TPM refused the PIN, and counted the failure.
type WrongPINError struct{ DA DAInfo }

func (e *WrongPINError) Error() string {
	return "TPM unlock refused: wrong PIN. " + e.DA.explain()
}

// LockoutError: the TPM is in dictionary-attack lockout and refuses every PIN.
type LockoutError struct{ DA DAInfo }

func (e *LockoutError) Error() string {
	s := "the TPM is in dictionary-attack lockout after too many wrong PINs and refuses every PIN for now"
	if e.DA.Known && e.DA.Interval > 0 {
		s += fmt.Sprintf("; it forgets one failure every %s (the machine must stay powered on for that to count)", e.DA.Interval)
	}
	return s + ". Unlock with the passphrase or the recovery key meanwhile."
}

// WrongTPMError: the sealed object does not load under this TPM's key: it was sealed by
// another TPM (another laptop), or this TPM was cleared since.
type WrongTPMError struct{ Err error }

func (e *WrongTPMError) Error() string {
	return "this TPM cannot load the sealed key: it was enrolled on another machine's TPM, or this TPM was cleared since (" + e.Err.Error() + "). " + reuseAdvice
}

func (e *WrongTPMError) Unwrap() error { return e.Err }

// MissingFeatureError: the TPM lacks an algorithm or PCR bank travelkit needs.
type MissingFeatureError struct{ Missing []string }

func (e *MissingFeatureError) Error() string {
	return "this TPM2 lacks what a travelkit enrolment needs: " + strings.Join(e.Missing, "; ")
}
