package main

import (
	"errors"
	"fmt"
	"strings"

	"travelkit/i18n"
	"travelkit/luks"
)

// Exit codes. Documented in README.md and in `travelkit --help`; scripts depend on them.
const (
	ExitOK          = 0 // success
	ExitError       = 1 // any other error
	ExitUsage       = 2 // bad command line: unknown flag, bad flag value, missing argument
	ExitWrongKey    = 3 // wrong passphrase, recovery key, volume key or identity
	ExitNotLUKS     = 4 // not a LUKS2 volume, unsupported LUKS feature, or damaged header
	ExitRefused     = 5 // refused for safety: device in use, last keyslot, confirmation declined
	ExitVerifyFail  = 6 // verification failed: tampered, incomplete or corrupt
	ExitLocked      = 7 // repository locked by another process
	ExitRemote      = 8 // a remote cannot be reached, or its bucket or folder does not exist
	ExitNoSpace     = 9 // no space left at the destination (or on a kit's tools partition)
	ExitInterrupted = 130
)

// cliError carries an exit code and an optional hint for the person at the keyboard.
type cliError struct {
	code    int
	err     error
	hint    string
	hintMsg *i18n.Message // the hint in every language (withCodeT); hint is its English
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }
func (e *cliError) Hint() string  { return e.hint }

func usageErrorf(format string, a ...any) error {
	return &cliError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// withCode wraps err with an exit code and a hint.
func withCode(code int, err error, hint string) error {
	if err == nil {
		return nil
	}
	return &cliError{code: code, err: err, hint: hint}
}

func exitCodeOf(err error) int {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	var l1 *luks.LUKS1Error
	var un *luks.UnsupportedError
	var co *luks.CorruptError
	switch {
	case errors.Is(err, luks.ErrWrongPassphrase), errors.Is(err, luks.ErrWrongVolumeKey):
		return ExitWrongKey
	case errors.Is(err, luks.ErrNotLUKS), errors.Is(err, luks.ErrBothHeadersBad),
		errors.As(err, &l1), errors.As(err, &un), errors.As(err, &co):
		return ExitNotLUKS
	case errors.Is(err, luks.ErrLastKeyslot), errors.Is(err, luks.ErrKeyslotInUse), errors.Is(err, luks.ErrNoFreeKeyslot),
		errors.Is(err, luks.ErrNoKeyslotSpace), errors.Is(err, luks.ErrTokenInUse):
		return ExitRefused
	}
	// cobra's own argument errors
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command") || strings.Contains(msg, "arg(s)") {
		return ExitUsage
	}
	return ExitError
}
