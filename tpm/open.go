package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
)

// ErrNoTPM says that no TPM2 was found where one was looked for.
var ErrNoTPM = errors.New("no TPM2 found")

// NoTPMError names the TPM that could not be opened and why.
type NoTPMError struct {
	Spec string // what was asked for ("auto", "/dev/tpmrm0", "unix:...", ...)
	Err  error
}

func (e *NoTPMError) Error() string {
	return fmt.Sprintf("no usable TPM2 at %q: %v", e.Spec, e.Err)
}

func (e *NoTPMError) Unwrap() []error { return []error{ErrNoTPM, e.Err} }

// TPM is an open connection to a TPM2.
type TPM struct {
	tr   transport.TPM
	c    io.Closer
	spec string
}

// New wraps an already open transport (for example the go-tpm-tools simulator).
// Close closes t if it implements io.Closer.
func New(t transport.TPM) *TPM {
	c, _ := t.(io.Closer)
	return &TPM{tr: retryTPM{t}, c: c, spec: "transport"}
}

// retryTPM resends a command the TPM answered with TPM_RC_RETRY, TPM_RC_YIELDED or
// TPM_RC_TESTING (busy, or self-testing after startup), as the TCG TSS does.
type retryTPM struct{ tr transport.TPM }

func (r retryTPM) Send(cmd []byte) ([]byte, error) {
	delay := 10 * time.Millisecond
	for try := 0; ; try++ {
		rsp, err := r.tr.Send(cmd)
		if err != nil || len(rsp) < 10 || try == 20 {
			return rsp, err
		}
		switch binary.BigEndian.Uint32(rsp[6:10]) {
		case 0x922, 0x908, 0x90A: // TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING
			time.Sleep(delay)
			if delay < 500*time.Millisecond {
				delay *= 2
			}
			continue
		}
		return rsp, nil
	}
}

// Open opens a TPM from a spec:
//   - "" or "auto": the platform's TPM (/dev/tpmrm0 on Linux, TBS on Windows);
//   - "/dev/...": a TPM character device (Linux);
//   - "unix:PATH": a software TPM's unix socket (swtpm --server type=unixio,path=PATH);
//   - "tcp:HOST:PORT": a software TPM's raw TCP data port (swtpm --server type=tcp,port=PORT).
//
// It checks that something answering as a TPM2 is there.
func Open(spec string) (*TPM, error) {
	var (
		tr  transport.TPM
		err error
	)
	switch {
	case spec == "" || spec == "auto":
		tr, err = openDefault()
		spec = "auto"
	case strings.HasPrefix(spec, "unix:"):
		p := strings.TrimPrefix(spec, "unix:")
		if p == "" {
			return nil, fmt.Errorf("tpm: %q: empty socket path", spec)
		}
		tr = &streamTPM{network: "unix", addr: p}
	case strings.HasPrefix(spec, "tcp:"):
		a := strings.TrimPrefix(spec, "tcp:")
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("tpm: %q: want tcp:HOST:PORT: %v", spec, err)
		}
		tr = &streamTPM{network: "tcp", addr: a}
	case strings.HasPrefix(spec, "/"):
		tr, err = openDevice(spec)
	default:
		return nil, fmt.Errorf("tpm: unknown TPM %q: use auto, a device path such as /dev/tpmrm0, unix:PATH or tcp:HOST:PORT", spec)
	}
	if err != nil {
		return nil, &NoTPMError{Spec: spec, Err: err}
	}
	t := New(tr)
	t.spec = spec
	if err := t.probe(); err != nil {
		t.Close()
		return nil, &NoTPMError{Spec: spec, Err: err}
	}
	return t, nil
}

// Spec returns the spec the TPM was opened with.
func (t *TPM) Spec() string { return t.spec }

// Transport returns the underlying go-tpm transport.
func (t *TPM) Transport() transport.TPM { return t.tr }

// Close closes the connection.
func (t *TPM) Close() error {
	if t.c == nil {
		return nil
	}
	return t.c.Close()
}

// streamTPM speaks the raw TPM command stream over a fresh connection per command, as
// swtpm's unixio and tcp servers and tpm2-tss's swtpm TCTI do. A connection per command
// lets other clients (tpm2-tools) use the same software TPM between travelkit's commands.
type streamTPM struct {
	network, addr string
}

const (
	maxResponse   = 64 << 10
	dialTimeout   = 10 * time.Second
	streamTimeout = 5 * time.Minute // key generation on slow TPMs takes a while
)

func (s *streamTPM) Send(cmd []byte) ([]byte, error) {
	c, err := net.DialTimeout(s.network, s.addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(streamTimeout)); err != nil {
		return nil, err
	}
	if _, err := c.Write(cmd); err != nil {
		return nil, err
	}
	return readResponse(c)
}

// readResponse reads one TPM response: a 10-byte header whose bytes 2..6 are the total size.
func readResponse(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("reading TPM response header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[2:6])
	if n < 10 || n > maxResponse {
		return nil, fmt.Errorf("TPM response claims %d bytes", n)
	}
	rsp := make([]byte, n)
	copy(rsp, hdr)
	if _, err := io.ReadFull(r, rsp[10:]); err != nil {
		return nil, fmt.Errorf("reading TPM response: %w", err)
	}
	return rsp, nil
}
