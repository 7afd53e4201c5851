package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"travelkit/internal/bytesize"
)

// Errors the storages wrap, so that callers can tell the person what to do and pick an
// exit code. Test with errors.Is.
var (
	// ErrAuth: the server refused the credentials (S3 keys, REST user and password, SSH
	// key or password).
	ErrAuth = errors.New("the server refused the credentials")
	// ErrMissing: the bucket or the server's folder does not exist.
	ErrMissing = errors.New("not found on the server")
	// ErrNoSpace: the server has no room for the file.
	ErrNoSpace = errors.New("the server has no space left")
	// ErrRefused: the server refuses the operation (an append-only server refusing a
	// deletion, a read-only folder).
	ErrRefused = errors.New("the server refuses this")
	// ErrUnreachable: the server could not be reached.
	ErrUnreachable = errors.New("the server cannot be reached")
	// ErrUntrusted: the server's TLS certificate does not verify (a private certificate
	// authority needs --ca-cert).
	ErrUntrusted = errors.New("the server's certificate is not trusted")
	// ErrOtherRepository: the location already holds a different repository.
	ErrOtherRepository = errors.New("the location holds another repository")
)

// NoSpaceError says a file did not fit on an SSH server's disk, with the room there was
// once none of this storage's other files being sent still held any (their temporary
// files take room until they are finished or removed) and the size of the file.
// errors.Is(err, ErrNoSpace) holds.
type NoSpaceError struct {
	Host string
	File string // the file that did not fit (data/1a2b...)
	Free int64  // bytes free for the account (statvfs: f_bavail x f_frsize)
	Need int64  // the file's size
	// Left is what the copy still had to send when it stopped, when a copy knows it
	// (mirror sets it; several files fail at once on a full disk, and which one is
	// reported is a matter of timing)
	Left int64
	Err  error // the server's own failure (its words; not unwrapped)
}

func (e *NoSpaceError) Error() string {
	if e.Left > 0 {
		return fmt.Sprintf("%v on %s (%s free, %s still to send; %s did not fit): %v", ErrNoSpace, e.Host, bytesize.Format(e.Free), bytesize.Format(e.Left), e.File, e.Err)
	}
	return fmt.Sprintf("%v on %s (%s free, %s needed for %s): %v", ErrNoSpace, e.Host, bytesize.Format(e.Free), bytesize.Format(e.Need), e.File, e.Err)
}

// Is makes errors.Is(err, ErrNoSpace) hold. The server's failure is not unwrapped (it is
// only its words: a plain SSH_FX_FAILURE).
func (e *NoSpaceError) Is(target error) bool { return target == ErrNoSpace }

// HostKeyError says an SSH server showed a host key that is not the one expected. The
// connection was closed before any credential was sent.
type HostKeyError struct {
	Addr string
	// Shown is the fingerprint the server showed (SHA256:..., as ssh-keygen -l prints
	// it) and its key type.
	Shown, ShownType string
	// Expected is the pinned fingerprint, or "" when the key was looked up in known_hosts.
	Expected string
	// Changed is true when a different key was expected (pinned or in known_hosts), false
	// when the host is unknown.
	Changed bool
	// Others are the server's other host keys ("TYPE SHA256:..."), asked for when the
	// expected key may be of another type; none of them matched either.
	Others []string
	// KnownHosts names the known_hosts files consulted.
	KnownHosts []string
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		exp := ""
		if e.Expected != "" {
			exp = " instead of the pinned " + e.Expected
		}
		others := ""
		if len(e.Others) > 0 {
			others = " (and " + strings.Join(e.Others, ", ") + ")"
		}
		return fmt.Sprintf("the SSH server %s showed the host key %s (%s)%s%s: the host key changed, refusing to connect; this can be an attack (someone between you and the server) or a reinstalled server",
			e.Addr, e.Shown, e.ShownType, others, exp)
	}
	where := "no host key is pinned"
	if len(e.KnownHosts) > 0 {
		where = "it is not in " + strings.Join(e.KnownHosts, ", ")
	}
	return fmt.Sprintf("the SSH server %s showed the host key %s (%s), and %s: refusing to connect to an unknown server",
		e.Addr, e.Shown, e.ShownType, where)
}

// Hint says how to go on.
func (e *HostKeyError) Hint() string {
	if e.Changed {
		return "ask the server's administrator for its host key fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server); only when it is " + e.Shown + " pin it again with --host-key " + e.Shown
	}
	return "ask the server's administrator for its host key fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server); when it is " + e.Shown + ", give --host-key " + e.Shown
}

// Transient reports whether err may go away when the operation is tried again: a
// network error, a server error (HTTP 5xx), a connection that was lost. Wrong
// credentials, a changed host key, a missing bucket, a full disk and a refusal are not.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var hk *HostKeyError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, ErrAuth), errors.Is(err, ErrMissing),
		errors.Is(err, ErrNoSpace), errors.Is(err, ErrRefused), errors.Is(err, ErrOtherRepository),
		errors.As(err, &hk), errors.Is(err, errDamaged), errors.Is(err, ErrUntrusted):
		return false
	case errors.Is(err, ErrUnreachable), errors.Is(err, errTransient), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF), errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// errTransient marks an error a storage knows to be passing (HTTP 5xx, a lost connection).
var errTransient = errors.New("temporary failure")

// errDamaged marks a file whose content does not match its name.
var errDamaged = errors.New("damaged")

// unreachable wraps a dial error; a certificate that does not verify is ErrUntrusted.
func unreachable(addr string, err error) error {
	if untrusted(err) {
		return fmt.Errorf("%w: %s: %v", ErrUntrusted, addr, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)
}

func untrusted(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// MarkTransient returns err marked as transient (Transient reports true for it).
func MarkTransient(err error) error { return fmt.Errorf("%w: %w", errTransient, err) }
