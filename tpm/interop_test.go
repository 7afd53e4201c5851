package tpm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// run runs a command in dir with extra environment, failing the test with its output.
func run(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.Bytes(), errb.Bytes())
	}
	return out.Bytes()
}

// tpm2ToolsUnseal unseals a token's secret with tpm2-tools alone, against the same swtpm:
// recreate systemd's ECC primary, load the blob's TPM2B_PUBLIC/TPM2B_PRIVATE, satisfy the
// policy (PolicyPCR, then PolicyAuthValue with a PIN) and unseal with the PIN's auth
// value. swtpm has no resource manager, so transient objects are flushed between commands.
func tpm2ToolsUnseal(t *testing.T, sock string, tok *Token, pin []byte) []byte {
	t.Helper()
	for _, tool := range []string{"tpm2_createprimary", "tpm2_load", "tpm2_startauthsession", "tpm2_policypcr", "tpm2_policyauthvalue", "tpm2_unseal", "tpm2_flushcontext"} {
		requireTool(t, tool, "tpm2-tools")
	}
	dir := t.TempDir()
	env := []string{"TPM2TOOLS_TCTI=swtpm:path=" + sock}
	blob, err := tok.Blob()
	if err != nil {
		t.Fatal(err)
	}
	priv, pub, _, err := SplitBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "priv"), priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pub"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	tools := func(name string, args ...string) { run(t, dir, env, name, args...) }
	parent := "primary.ctx"
	if tok.SRK != nil {
		// systemd 255+ seals under the persistent SRK its tpm2_srk names.
		parent = fmt.Sprintf("0x%08x", binary.BigEndian.Uint32(tok.SRK))
	} else {
		// systemd's primary key for tokens without tpm2_srk (empty unique, no noda).
		tools("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc256:aes128cfb",
			"-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt", "-c", "primary.ctx")
		tools("tpm2_flushcontext", "-t")
	}
	tools("tpm2_load", "-C", parent, "-u", "pub", "-r", "priv", "-c", "sealed.ctx")
	tools("tpm2_flushcontext", "-t")
	tools("tpm2_startauthsession", "--policy-session", "-S", "session.ctx")
	pcrs := make([]string, len(tok.PCRs))
	for i, p := range tok.PCRs {
		pcrs[i] = strconv.Itoa(p)
	}
	if len(pcrs) > 0 {
		tools("tpm2_policypcr", "-S", "session.ctx", "-l", "sha256:"+strings.Join(pcrs, ","))
	}
	auth := "session:session.ctx"
	if tok.PIN {
		tools("tpm2_policyauthvalue", "-S", "session.ctx")
		auth += "+hex:" + hex.EncodeToString(PINAuth(pin, tok.Salt))
	}
	tools("tpm2_unseal", "-c", "sealed.ctx", "-p", auth, "-o", "secret")
	tools("tpm2_flushcontext", "-t")
	tools("tpm2_flushcontext", "session.ctx")
	flushAll(t, sock)
	secret, err := os.ReadFile(filepath.Join(dir, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// flushAll flushes every transient object and session of a TPM without resource manager.
func flushAll(t *testing.T, sock string) {
	t.Helper()
	requireTool(t, "tpm2_flushcontext", "tpm2-tools")
	for _, what := range []string{"-t", "-l", "-s"} {
		run(t, "", []string{"TPM2TOOLS_TCTI=swtpm:path=" + sock}, "tpm2_flushcontext", what)
	}
}

// luksImage makes a small LUKS2 image with cryptsetup, keyslot 0 opened by the returned
// key file. Cheap PBKDF2 keeps it fast.
func luksImage(t *testing.T) (img, keyFile string) {
	t.Helper()
	requireTool(t, "cryptsetup", "cryptsetup-bin")
	dir := t.TempDir()
	img, keyFile = filepath.Join(dir, "luks.img"), filepath.Join(dir, "key0")
	if err := os.WriteFile(keyFile, []byte("first passphrase"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(20 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run(t, dir, nil, "cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
		"--pbkdf-force-iterations", "1000", "--key-file", keyFile, img)
	return img, keyFile
}

// testPassphrase checks with cryptsetup that passphrase opens keyslot slot of img.
func testPassphrase(t *testing.T, img string, slot int, passphrase []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, passphrase, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "", nil, "cryptsetup", "open", "--test-passphrase", "--key-slot", strconv.Itoa(slot), "--key-file", f, img)
}

// TestTPM2ToolsInterop: travelkit seals, cryptsetup takes the keyslot and the token
// (systemd's token plugin validates it on import), and tpm2-tools alone unseals a secret
// whose base64 opens that keyslot.
func TestTPM2ToolsInterop(t *testing.T) {
	sw := startSWTPM(t)
	tp, err := Open("unix:" + sw.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	for _, c := range []struct {
		name    string
		pcrs    []int
		pin     []byte
		uns     bool
		inToken bool
	}{
		{"pcr7", nil, nil, false, false},
		{"pcr0+7+pin+values", []int{0, 7}, []byte("4321"), false, true},
		{"pin-unsalted", []int{7}, []byte("hunter2"), true, false},
		{"nopcr+pin", []int{}, []byte("5555"), false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := tp.Seal(SealOptions{PCRs: c.pcrs, PIN: c.pin, UnsaltedPIN: c.uns, Keyslot: 1, PCRValuesInToken: c.inToken})
			if err != nil {
				t.Fatal(err)
			}
			img, key0 := luksImage(t)
			dir := filepath.Dir(img)
			newKey := filepath.Join(dir, "tpmkey")
			if err := os.WriteFile(newKey, s.Passphrase(), 0o600); err != nil {
				t.Fatal(err)
			}
			run(t, dir, nil, "cryptsetup", "luksAddKey", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
				"--key-file", key0, "--key-slot", "1", img, newKey)
			tokFile := filepath.Join(dir, "token.json")
			if err := os.WriteFile(tokFile, s.Token.JSON(), 0o600); err != nil {
				t.Fatal(err)
			}
			run(t, dir, nil, "cryptsetup", "token", "import", "--json-file", tokFile, "--token-id", "0", img)
			exported := run(t, dir, nil, "cryptsetup", "token", "export", "--token-id", "0", img)
			back, err := ParseToken(exported)
			if err != nil {
				t.Fatalf("token as cryptsetup exports it: %v\n%s", err, exported)
			}
			var a, b any
			_ = json.Unmarshal(exported, &a)
			_ = json.Unmarshal(s.Token.JSON(), &b)
			if !jsonEqual(a, b) {
				t.Fatalf("token changed on the way through cryptsetup:\n%s\n%s", exported, s.Token.JSON())
			}
			if (back.PCRValues != nil) != c.inToken {
				t.Fatalf("travelkit-pcr-values present: %v, want %v", back.PCRValues != nil, c.inToken)
			}
			// The PCR record goes in as a token of its own type, which cryptsetup keeps as is.
			recFile := filepath.Join(dir, "record.json")
			if err := os.WriteFile(recFile, s.PCRRecord().JSON(), 0o600); err != nil {
				t.Fatal(err)
			}
			run(t, dir, nil, "cryptsetup", "token", "import", "--json-file", recFile, "--token-id", "1", img)
			if rec, err := ParsePCRRecord(run(t, dir, nil, "cryptsetup", "token", "export", "--token-id", "1", img)); err != nil || !rec.Applies(back) {
				t.Fatalf("PCR record through cryptsetup: %v", err)
			}
			dump := run(t, dir, nil, "cryptsetup", "luksDump", img)
			if !bytes.Contains(dump, []byte("systemd-tpm2")) {
				t.Fatalf("luksDump does not show the token:\n%s", dump)
			}

			secret := tpm2ToolsUnseal(t, sw.sock, back, c.pin)
			if !bytes.Equal(secret, s.Secret) {
				t.Fatalf("tpm2-tools unsealed %x, travelkit sealed %x", secret, s.Secret)
			}
			testPassphrase(t, img, 1, Passphrase(secret))

			// And travelkit unseals it too, from the exported token.
			got, err := tp.Unseal(back, c.pin)
			if err != nil || !bytes.Equal(got, s.Secret) {
				t.Fatalf("travelkit unseal: %v", err)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestSystemdCryptenrollInterop: systemd-cryptenroll enrols against swtpm; travelkit
// parses the token it wrote and unseals the secret, whose base64 opens the keyslot.
func TestSystemdCryptenrollInterop(t *testing.T) {
	requireTool(t, "systemd-cryptenroll", "systemd (Debian 12) or systemd-cryptsetup (Debian 13)")
	sw := startSWTPM(t)
	tp, err := Open("unix:" + sw.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	for _, c := range []struct {
		name string
		args []string
		pin  string
	}{
		{"pcr7", []string{"--tpm2-pcrs=7"}, ""},
		{"pcr0+7+pin", []string{"--tpm2-pcrs=0+7", "--tpm2-with-pin=yes"}, "9876"},
		{"nopcr+pin", []string{"--tpm2-pcrs=", "--tpm2-with-pin=yes"}, "1111"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, key0 := luksImage(t)
			var env []string
			if c.pin != "" {
				env = append(env, "NEWPIN="+c.pin)
			}
			args := append([]string{"--unlock-key-file=" + key0, "--tpm2-device=swtpm:path=" + sw.sock}, c.args...)
			run(t, filepath.Dir(img), env, "systemd-cryptenroll", append(args, img)...)
			// swtpm has no resource manager: drop what systemd left loaded (it holds only
			// three sessions and three transient objects).
			flushAll(t, sw.sock)
			exported := run(t, "", nil, "cryptsetup", "token", "export", "--token-id", "0", img)
			tok, err := ParseToken(exported)
			if err != nil {
				t.Fatalf("ParseToken(%s): %v", exported, err)
			}
			t.Logf("systemd-cryptenroll wrote %s", exported)
			if tok.PIN != (c.pin != "") || len(tok.Keyslots) != 1 {
				t.Fatalf("token %s", exported)
			}
			secret, err := tp.Unseal(tok, []byte(c.pin))
			if err != nil {
				t.Fatalf("unsealing systemd's token: %v", err)
			}
			testPassphrase(t, img, tok.Keyslots[0], Passphrase(secret))
			// And tpm2-tools agrees, so the recipe is the one systemd uses.
			if got := tpm2ToolsUnseal(t, sw.sock, tok, []byte(c.pin)); !bytes.Equal(got, secret) {
				t.Fatalf("tpm2-tools unsealed %x, travelkit %x", got, secret)
			}
		})
	}
}
