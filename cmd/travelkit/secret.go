package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// maxSecretFile bounds what is read from a passphrase or key file (cryptsetup's limit is 8 MiB).
const maxSecretFile = 8 << 20

// readSecretFile reads a passphrase file byte for byte, exactly as cryptsetup's --key-file:
// no trimming of newlines or spaces, so one file works with both tools. "-" is standard input.
func readSecretFile(path, what string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageErrorf("%s: %v", what, err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", what, path, err)
	}
	if len(b) > maxSecretFile {
		clear(b)
		return nil, usageErrorf("%s %s is larger than 8 MiB", what, path)
	}
	if len(b) == 0 {
		return nil, usageErrorf("%s %s is empty", what, path)
	}
	return b, nil
}

// isTerminal reports whether standard input is a terminal, to read a passphrase or a
// confirmation from. Prompts go to standard error, wherever it points.
func isTerminal() bool {
	return term.IsTerminal(int(os.Stdin.Fd()))
}

// promptSecret asks for a secret on the terminal without echo. With confirm it asks twice.
func promptSecret(prompt string, confirm bool) ([]byte, error) {
	if !isTerminal() {
		return nil, usageErrorf("no passphrase given and standard input is not a terminal; use --passphrase-file")
	}
	fd := int(os.Stdin.Fd())
	fmt.Fprint(os.Stderr, prompt+": ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	if len(a) == 0 {
		return nil, usageErrorf("empty passphrase")
	}
	if !confirm {
		return a, nil
	}
	fmt.Fprint(os.Stderr, "Verify "+lowerFirst(prompt)+": ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	defer clear(b)
	if err != nil {
		clear(a)
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	if !bytes.Equal(a, b) {
		clear(a)
		return nil, withCode(ExitUsage, errors.New("passphrases do not match"), "type the same passphrase twice")
	}
	return a, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// getSecret returns the secret from file when given, else prompts.
func getSecret(file, what, prompt string, confirm bool) ([]byte, error) {
	if file != "" {
		return readSecretFile(file, what)
	}
	return promptSecret(prompt, confirm)
}
