package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"travelkit/repo"
)

// Credentials are the secrets and trust anchors for one location. They come from the
// environment, a file or a prompt, or from a remote's settings inside a kit; never from a
// command line.
type Credentials struct {
	// S3
	AccessKeyID, SecretAccessKey, SessionToken, Region string
	// REST (HTTP basic authentication) and SFTP (Username: the login name when the
	// location names none; Password: SSH password authentication).
	Username, Password string
	// SSHKey is an OpenSSH or PEM private key (SFTP); it may be encrypted, and is then
	// opened with Options.Prompt.
	SSHKey []byte
	// HostKey pins the SSH server's host key: a fingerprint as ssh-keygen -l prints it
	// (SHA256:...). Without it, KnownHosts are consulted.
	HostKey string
	// KnownHosts are OpenSSH known_hosts files (default: ~/.ssh/known_hosts).
	KnownHosts []string
	// CACert holds PEM certificates of a private certificate authority to trust, besides
	// the system's (S3 and REST over https).
	CACert []byte
}

// Options tune a storage.
type Options struct {
	// Throttle is called before n more bytes of a file are sent; it may block (a
	// bandwidth cap) and counts bytes for progress. nil: no cap.
	Throttle func(ctx context.Context, n int) error
	// Prompt asks the person for a secret (an SSH key's passphrase, an SSH password). nil:
	// never ask.
	Prompt func(what string) ([]byte, error)
	// Connections is the number of parallel transfers planned (sizes connection pools).
	Connections int
	// NoAgent ignores SSH_AUTH_SOCK.
	NoAgent bool
	// NoDefaultKeys ignores ~/.ssh/id_* (tests).
	NoDefaultKeys bool
}

// Storage is a repository storage at a location.
type Storage interface {
	repo.Storage
	repo.Creator
	repo.RangeReader
	// Sum reads a stored file and returns its sha256 and size, without keeping it in memory.
	Sum(ctx context.Context, h repo.Handle) ([32]byte, int64, error)
	// Location is where the storage is.
	Location() Location
	// Close ends the connection.
	Close() error
}

// SaveVerifier is implemented by storages whose Save has the server check the content
// against its sha256 (S3: the signed x-amz-content-sha256 and Content-MD5 headers), so
// that reading the file back is not needed.
type SaveVerifier interface {
	SaveVerifies() bool
}

// SumSaver is implemented by storages that send a file's sha256 with it, for the server
// to check (S3). SaveSum is Save with the sum given by a caller that computed it already
// (a repository file's name is the sha256 of its content).
type SumSaver interface {
	SaveSum(ctx context.Context, h repo.Handle, data []byte, sum [32]byte) error
}

// Open connects to the storage at loc. The connection is checked (credentials, the SSH
// host key, the bucket), so that a mistake shows at once.
func Open(ctx context.Context, loc Location, cred *Credentials, opt Options) (Storage, error) {
	if cred == nil {
		cred = &Credentials{}
	}
	if opt.Connections <= 0 {
		opt.Connections = 4
	}
	switch loc.Kind {
	case Local:
		return openLocal(loc), nil
	case SFTP:
		return openSFTP(ctx, loc, cred, opt)
	case S3:
		return openS3(ctx, loc, cred, opt)
	case REST:
		return openREST(ctx, loc, cred, opt)
	}
	return nil, fmt.Errorf("unknown kind of location %q", loc.Kind)
}

// tlsConfig trusts the system's certificate authorities and cred.CACert. Certificates
// are always verified.
// loadAt reads len(p) bytes at off with load: the ReadAt of a backend whose Load reads a
// range in one request (REST, S3).
func loadAt(ctx context.Context, load func(context.Context, repo.Handle, int64, int) ([]byte, error), h repo.Handle, p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	b, err := load(ctx, h, off, len(p))
	if err != nil {
		return err
	}
	copy(p, b)
	return nil
}

// sumStream returns the sha256 and the length of a stored file as a server sends it
// (at most maxLoad bytes are read); a stream that breaks off is a transient error.
func sumStream(r io.Reader, h repo.Handle, host string) ([32]byte, int64, error) {
	hs := sha256.New()
	n, err := io.Copy(hs, io.LimitReader(r, maxLoad))
	if err != nil {
		return [32]byte{}, 0, fmt.Errorf("reading %s on %s: %w: %v", h, host, errTransient, err)
	}
	var sum [32]byte
	hs.Sum(sum[:0])
	return sum, n, nil
}

func tlsConfig(cred *Credentials) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cred.CACert) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cred.CACert) {
			return nil, errors.New("the CA certificate (--ca-cert) holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func httpTransport(cred *Credentials, conns int) (*http.Transport, error) {
	tc, err := tlsConfig(cred)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	t.MaxIdleConnsPerHost = conns + 2
	t.ResponseHeaderTimeout = 5 * time.Minute
	t.Proxy = http.ProxyFromEnvironment
	return t, nil
}

// body is what is sent for one file: it reports its length (for concurrent and
// sized uploads) and calls the throttle before each chunk.
type body struct {
	ctx      context.Context
	r        *bytes.Reader
	throttle func(ctx context.Context, n int) error
}

const chunk = 32 << 10

func newBody(ctx context.Context, data []byte, opt Options) *body {
	return &body{ctx: ctx, r: bytes.NewReader(data), throttle: opt.Throttle}
}

func (b *body) Read(p []byte) (int, error) {
	if b.r.Len() == 0 {
		return 0, io.EOF
	}
	if b.throttle != nil {
		if len(p) > chunk {
			p = p[:chunk]
		}
		if n := min(len(p), b.r.Len()); n > 0 {
			if err := b.throttle(b.ctx, n); err != nil {
				return 0, err
			}
		}
	}
	return b.r.Read(p)
}

// Len is the number of bytes not yet read.
func (b *body) Len() int { return b.r.Len() }

// local is a folder, as a Storage.
type local struct {
	*repo.Folder
	loc Location
}

func openLocal(loc Location) *local { return &local{Folder: repo.NewFolder(loc.Path), loc: loc} }

func (l *local) Location() Location { return l.loc }
func (l *local) Close() error       { return nil }
func (l *local) Sum(ctx context.Context, h repo.Handle) ([32]byte, int64, error) {
	b, err := l.Load(ctx, h, 0, 0)
	if err != nil {
		return [32]byte{}, 0, err
	}
	return sha256Sum(b), int64(len(b)), nil
}
