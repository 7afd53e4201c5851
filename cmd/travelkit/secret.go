package main

import (
	"bytes"
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
			return nil, usageErrorT("cli.secret.file_open", secretFileName(what), err.Error())
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSecretFile+1))
	if err != nil {
		return nil, causeT(err, "cli.more.read_file", secretFileName(what), path)
	}
	if len(b) > maxSecretFile {
		clear(b)
		return nil, usageErrorT("cli.secret.file_large", secretFileName(what), path)
	}
	if len(b) == 0 {
		return nil, usageErrorT("cli.secret.file_empty", secretFileName(what), path)
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
		return nil, usageErrorT("cli.secret.not_terminal")
	}
	fd := int(os.Stdin.Fd())
	fmt.Fprint(os.Stderr, prompt+": ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, causeT(err, "cli.more.read_passphrase")
	}
	if len(a) == 0 {
		return nil, usageErrorT("cli.secret.empty")
	}
	if !confirm {
		return a, nil
	}
	fmt.Fprint(os.Stderr, tr.T("cli.secret.again", lowerFirst(prompt))+": ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	defer clear(b)
	if err != nil {
		clear(a)
		return nil, causeT(err, "cli.more.read_passphrase")
	}
	if !bytes.Equal(a, b) {
		clear(a)
		return nil, withCodeT(ExitUsage, errorT("cli.secret.mismatch"), "cli.secret.mismatch_hint")
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

// secretFileEncoding names the text encoding a passphrase file was saved in when it is not
// plain bytes one can type: a UTF-16 or UTF-8 byte order mark at the start (Windows
// PowerShell 5.1's `>` and Out-File write UTF-16 LE with FF FE), or a NUL byte (UTF-16
// without a mark). "" for an ordinary file.
func secretFileEncoding(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return "UTF-8 (BOM EF BB BF)"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return "UTF-16 LE (BOM FF FE)"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return "UTF-16 BE (BOM FE FF)"
	case bytes.IndexByte(b, 0) >= 0:
		return "UTF-16 (NUL)"
	}
	return ""
}

// getNewSecret is getSecret for a NEW passphrase: a file saved as UTF-16 or with a byte
// order mark is refused (exit 2, nothing changed), since its passphrase could never be
// typed at a prompt. Ordinary files are still used byte for byte, as cryptsetup does.
func getNewSecret(file, what, prompt string) ([]byte, error) {
	b, err := getSecret(file, what, prompt, true)
	if err != nil || file == "" {
		return b, err
	}
	if enc := secretFileEncoding(b); enc != "" {
		clear(b)
		return nil, withCodeT(ExitUsage, errorT("cli.secret.file_encoding", secretFileName(what), file, enc), "cli.secret.file_encoding_hint", file)
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		// kept, as cryptsetup keeps it, but said: typed at a prompt it would not unlock
		fmt.Fprintln(os.Stderr, tr.T("cli.secret.file_newline_note", secretFileName(what), file))
	}
	return b, nil
}

// getSecret returns the secret from file when given, else prompts.
func getSecret(file, what, prompt string, confirm bool) ([]byte, error) {
	if file != "" {
		return readSecretFile(file, what)
	}
	return promptSecret(prompt, confirm)
}

// secretFileName is what (passphrase file, recovery key file, password file, identity
// file, share file) in the person's language.
func secretFileName(what string) string {
	key := map[string]string{"passphrase file": "cli.file.passphrase", "recovery key file": "cli.file.recovery",
		"password file": "cli.file.password", "identity file": "cli.file.identity", "share file": "cli.file.share",
		"new passphrase file": "cli.secretfile.new_passphrase", "PIN file": "cli.secretfile.pin", "volume key file": "cli.secretfile.volume_key"}[what]
	if key == "" {
		return what
	}
	return tr.T(key)
}
