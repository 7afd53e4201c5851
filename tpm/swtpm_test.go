package tpm

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
)

// swtpmInstance is a swtpm process started by a test, with its state in a temp dir.
type swtpmInstance struct {
	sock string // unix socket of the TPM command channel; its control channel is sock+".ctrl"
	dir  string
}

func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install the Debian package %s (scripts/install-test-deps.sh)", name, pkg)
	}
	return p
}

// startSWTPM starts swtpm over a unix socket, started up (startup-clear). The control
// socket is named <sock>.ctrl, which is where tpm2-tss's swtpm TCTI (tpm2-tools, systemd)
// looks for it.
func startSWTPM(t *testing.T) *swtpmInstance {
	t.Helper()
	return runSWTPM(t, "not-need-init,startup-clear")
}

// swtpmState makes a temp dir for one swtpm and the folder of its state in it.
func swtpmState(t *testing.T) (dir, state string) {
	t.Helper()
	dir = t.TempDir()
	state = filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, state
}

// runSWTPM starts swtpm with the given --flags over a unix socket, as startSWTPM says,
// and waits until it takes connections; the test's cleanup ends it.
func runSWTPM(t *testing.T, flags string) *swtpmInstance {
	t.Helper()
	bin := requireTool(t, "swtpm", "swtpm")
	dir, state := swtpmState(t)
	sock := filepath.Join(dir, "tpm.sock")
	cmd := exec.Command(bin, "socket", "--tpm2", "--flags", flags,
		"--server", "type=unixio,path="+sock,
		"--ctrl", "type=unixio,path="+sock+".ctrl",
		"--tpmstate", "dir="+state)
	logf, err := os.Create(filepath.Join(dir, "swtpm.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		logf.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The socket file appears at bind(), before listen(): wait until a connect works.
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "swtpm.log"))
			t.Fatalf("swtpm exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("swtpm did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &swtpmInstance{sock: sock, dir: dir}
}

func openSWTPM(t *testing.T) *TPM {
	t.Helper()
	sw := startSWTPM(t)
	tp, err := Open("unix:" + sw.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

func TestSWTPM(t *testing.T) { runScenarios(t, openSWTPM) }

func TestOpenErrors(t *testing.T) {
	for _, spec := range []string{"bogus", "unix:", "tcp:nohostport", "unix:/nonexistent/tpm.sock", "/nonexistent/tpm0"} {
		if _, err := Open(spec); err == nil {
			t.Errorf("Open(%q) succeeded", spec)
		} else {
			t.Logf("Open(%q): %v", spec, err)
		}
	}
	// A socket with nothing behind it is no TPM.
	if _, err := Open("unix:" + filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("Open of a missing socket succeeded")
	}
}

// spyTPM records every command and response.
type spyTPM struct {
	tr      transport.TPM
	traffic [][]byte
}

func (s *spyTPM) Send(cmd []byte) ([]byte, error) {
	rsp, err := s.tr.Send(cmd)
	s.traffic = append(s.traffic, append([]byte(nil), cmd...), append([]byte(nil), rsp...))
	return rsp, err
}

// Neither the secret nor the PIN's auth value crosses the TPM interface in the clear.
func TestNoSecretsOnTheBus(t *testing.T) {
	sw := startSWTPM(t)
	spy := &spyTPM{tr: &streamTPM{network: "unix", addr: sw.sock}}
	tp := New(spy)
	pin := []byte("1357")
	s := sealAndUnseal(t, tp, SealOptions{PIN: pin})
	auth := PINAuth(pin, s.Token.Salt)
	for i, b := range spy.traffic {
		if bytes.Contains(b, s.Secret[:16]) || bytes.Contains(b, auth[:16]) {
			t.Fatalf("message %d carries the secret or the auth value in the clear: %x", i, b)
		}
	}
	if len(spy.traffic) < 10 {
		t.Fatalf("only %d messages recorded", len(spy.traffic))
	}
}

// tpm2-tools also unseals a token whose tpm2_srk names a persistent SRK (systemd 255+).
func TestTPM2ToolsPersistentSRK(t *testing.T) {
	sw := startSWTPM(t)
	tp, err := Open("unix:" + sw.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	tok, secret := sealUnderPersistentSRK(t, tp)
	if got := tpm2ToolsUnseal(t, sw.sock, tok, nil); !bytes.Equal(got, secret) {
		t.Fatalf("tpm2-tools unsealed %x, want %x", got, secret)
	}
}

// A software TPM nobody has started up yet is started by Open.
func TestOpenStartsUp(t *testing.T) {
	sw := runSWTPM(t, "not-need-init")
	tp, err := Open("unix:" + sw.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	sealAndUnseal(t, tp, SealOptions{})
}

// sealAndUnseal seals a new secret with opts on tp, unseals its token with opts.PIN
// and fails the test unless the secret comes back.
func sealAndUnseal(t *testing.T, tp *TPM, opts SealOptions) *Sealed {
	t.Helper()
	s, err := tp.Seal(opts)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	if got, err := tp.Unseal(s.Token, opts.PIN); err != nil || !bytes.Equal(got, s.Secret) {
		t.Fatalf("unseal: %v, %d bytes back, want the %d sealed", err, len(got), len(s.Secret))
	}
	return s
}
