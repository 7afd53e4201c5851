package remote

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"travelkit/repo"
)

// sftpStorage keeps a repository in a folder of an SSH server, laid out as restic's sftp
// backend does (config, keys/, locks/, snapshots/, index/, data/<2 hex>/). It speaks
// SFTP over golang.org/x/crypto/ssh, so no ssh program is needed, and reconnects when
// the connection is lost.
type sftpStorage struct {
	loc  Location
	cred *Credentials
	opt  Options
	user string

	mu     sync.Mutex
	conn   *ssh.Client
	sc     *sftp.Client
	dead   bool
	noExec bool // the account cannot run the hashing shell
	shells *sumShells
	// serverSums counts the files the server hashed (tests)
	serverSums atomic.Int64
	hostKey    string // the accepted host key: "TYPE SHA256:..."
	madeDir    sync.Map
	// saving holds a channel for each Save whose temporary file may be on the server,
	// closed when that file is renamed or removed (full waits for them)
	saving map[chan struct{}]bool
	// waiting, when set (tests), is called when full starts to wait for other Saves
	waiting func()
}

func openSFTP(ctx context.Context, loc Location, cred *Credentials, opt Options) (*sftpStorage, error) {
	s := &sftpStorage{loc: loc, cred: cred, opt: opt, user: loc.User}
	if s.user == "" {
		s.user = cred.Username
	}
	if s.user == "" {
		if u, err := user.Current(); err == nil {
			s.user = u.Username
			if i := strings.LastIndexByte(s.user, '\\'); i >= 0 { // Windows: DOMAIN\name
				s.user = s.user[i+1:]
			}
		}
	}
	if _, err := s.client(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sftpStorage) Location() Location { return s.loc }

// HostKey returns the host key the server showed, as "TYPE SHA256:...", for pinning.
func (s *sftpStorage) HostKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostKey
}

// client returns a working SFTP client, connecting again when the last connection died.
func (s *sftpStorage) client(ctx context.Context) (*sftp.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sc != nil && !s.dead {
		return s.sc, nil
	}
	if s.sc != nil {
		s.shells.close()
		s.sc.Close()
		s.conn.Close()
		s.sc, s.conn, s.shells = nil, nil, nil
	}
	conn, hk, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	cl, err := sftp.NewClient(conn, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(64))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: the SSH server offers no SFTP: %v", s.loc.Addr(), err)
	}
	s.conn, s.sc, s.dead, s.hostKey, s.noExec = conn, cl, false, hk, false
	s.shells = newSumShells(conn)
	go func() {
		conn.Wait()
		s.mu.Lock()
		if s.conn == conn {
			s.dead = true
		}
		s.mu.Unlock()
	}()
	return cl, nil
}

// keyTypes are the host key algorithms of each key type, to ask a server for one type.
var keyTypes = map[string][]string{
	ssh.KeyAlgoED25519:  {ssh.KeyAlgoED25519},
	ssh.KeyAlgoECDSA256: {ssh.KeyAlgoECDSA256},
	ssh.KeyAlgoECDSA384: {ssh.KeyAlgoECDSA384},
	ssh.KeyAlgoECDSA521: {ssh.KeyAlgoECDSA521},
	ssh.KeyAlgoRSA:      {ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA},
}

var keyTypeOrder = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521, ssh.KeyAlgoRSA}

// dial connects and authenticates. A server has host keys of several types and shows
// one per connection; when the one shown is not the expected one, the other types are
// asked for before refusing, so that a key pinned or known for another type is found.
func (s *sftpStorage) dial(ctx context.Context) (*ssh.Client, string, error) {
	check, err := s.hostKeyCheck()
	if err != nil {
		return nil, "", err
	}
	var algos []string // nil: the library's default order
	tried := map[string]bool{}
	var first *HostKeyError
	for {
		var refusal *HostKeyError
		var others []string
		var accepted string
		cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			tried[key.Type()] = true
			if refusal, others = check(hostname, remote, key); refusal != nil {
				return refusal
			}
			accepted = key.Type() + " " + ssh.FingerprintSHA256(key)
			return nil
		}
		conn, err := s.handshake(ctx, cb, algos)
		if err == nil {
			return conn, accepted, nil
		}
		if refusal == nil {
			if first != nil {
				return nil, "", first // the server has no other type of host key
			}
			return nil, "", err
		}
		if first == nil {
			first = refusal
		} else if refusal.Shown != first.Shown {
			first.Others = append(first.Others, refusal.ShownType+" "+refusal.Shown)
		}
		if !refusal.Changed {
			return nil, "", first // an unknown host
		}
		// a pinned key may be of another type: ask for each; known_hosts names its types
		algos = nil
		for _, t := range keyTypeOrder {
			if !tried[t] && (s.cred.HostKey != "" || contains(others, t)) {
				algos = append(algos, keyTypes[t]...)
			}
		}
		if len(algos) == 0 {
			return nil, "", first
		}
	}
}

// hostKeyCheck returns the host key check: against the pinned fingerprint, else against
// known_hosts. The check also returns the other key types known_hosts holds for the host.
func (s *sftpStorage) hostKeyCheck() (func(string, net.Addr, ssh.PublicKey) (*HostKeyError, []string), error) {
	addr := s.loc.Addr()
	if pin := s.cred.HostKey; pin != "" {
		if !strings.HasPrefix(pin, "SHA256:") {
			return nil, fmt.Errorf("the host key %q is not a SHA256 fingerprint as ssh-keygen -l prints it (SHA256:...)", pin)
		}
		return func(_ string, _ net.Addr, key ssh.PublicKey) (*HostKeyError, []string) {
			if fp := ssh.FingerprintSHA256(key); fp != pin {
				return &HostKeyError{Addr: addr, Shown: fp, ShownType: key.Type(), Expected: pin, Changed: true}, nil
			}
			return nil, nil
		}, nil
	}
	files := s.cred.KnownHosts
	if files == nil {
		if home, err := os.UserHomeDir(); err == nil {
			files = []string{filepath.Join(home, ".ssh", "known_hosts")}
		}
	}
	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	var kh ssh.HostKeyCallback
	if len(existing) > 0 {
		var err error
		if kh, err = knownhosts.New(existing...); err != nil {
			return nil, fmt.Errorf("reading known_hosts: %w", err)
		}
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) (*HostKeyError, []string) {
		e := &HostKeyError{Addr: addr, Shown: ssh.FingerprintSHA256(key), ShownType: key.Type(), KnownHosts: existing}
		if kh == nil {
			return e, nil
		}
		err := kh(hostname, remote, key)
		if err == nil {
			return nil, nil
		}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		var others []string
		switch {
		case errors.As(err, &re):
			e.Changed = true
		case errors.As(err, &ke) && len(ke.Want) > 0:
			e.Changed = true
			for _, w := range ke.Want {
				if t := w.Key.Type(); t != key.Type() && !contains(others, t) {
					others = append(others, t)
				}
			}
		}
		return e, others
	}, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// handshake makes one SSH connection.
func (s *sftpStorage) handshake(ctx context.Context, hostKey func(string, net.Addr, ssh.PublicKey) error, algos []string) (*ssh.Client, error) {
	addr := s.loc.Addr()
	cfg := &ssh.ClientConfig{
		User:              s.user,
		Auth:              s.authMethods(),
		HostKeyCallback:   hostKey,
		HostKeyAlgorithms: algos,
		Timeout:           30 * time.Second,
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, unreachable(addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	} else {
		nc.SetDeadline(time.Now().Add(2 * time.Minute))
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("%w: the SSH server %s refused every key and password offered for the user %q", ErrAuth, addr, s.user)
		}
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, fmt.Errorf("%w: %s: %v", errTransient, addr, err)
	}
	nc.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// authMethods: the given key, the agent (SSH_AUTH_SOCK), the default keys ~/.ssh/id_*,
// then a password (given, or asked for).
func (s *sftpStorage) authMethods() []ssh.AuthMethod {
	var m []ssh.AuthMethod
	signers := func() ([]ssh.Signer, error) {
		var out []ssh.Signer
		if len(s.cred.SSHKey) > 0 {
			sg, err := s.parseKey(s.cred.SSHKey, "the SSH key")
			if err != nil {
				return nil, err
			}
			out = append(out, sg)
		}
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !s.opt.NoAgent {
			if c, err := net.Dial("unix", sock); err == nil {
				if ss, err := agent.NewClient(c).Signers(); err == nil {
					out = append(out, ss...)
				}
			}
		}
		if len(s.cred.SSHKey) == 0 && !s.opt.NoDefaultKeys {
			if home, err := os.UserHomeDir(); err == nil {
				for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
					p := filepath.Join(home, ".ssh", n)
					b, err := os.ReadFile(p)
					if err != nil {
						continue
					}
					if sg, err := s.parseKey(b, p); err == nil {
						out = append(out, sg)
					}
				}
			}
		}
		return out, nil
	}
	m = append(m, ssh.PublicKeysCallback(signers))
	if s.cred.Password != "" {
		m = append(m, ssh.Password(s.cred.Password))
	} else if s.opt.Prompt != nil {
		m = append(m, ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
			b, err := s.opt.Prompt(fmt.Sprintf("SSH password for %s@%s", s.user, s.loc.Host))
			return string(b), err
		}), 3))
	}
	return m
}

func (s *sftpStorage) parseKey(b []byte, what string) (ssh.Signer, error) {
	sg, err := ssh.ParsePrivateKey(b)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		if s.opt.Prompt == nil {
			return nil, fmt.Errorf("%s is encrypted and there is no terminal to ask for its passphrase", what)
		}
		pass, perr := s.opt.Prompt("Passphrase of " + what)
		if perr != nil {
			return nil, perr
		}
		defer clear(pass)
		sg, err = ssh.ParsePrivateKeyWithPassphrase(b, pass)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return sg, nil
}

func (s *sftpStorage) path(h repo.Handle) string {
	switch {
	case h.Type == repo.ConfigFile:
		return path.Join(s.loc.Path, "config")
	case h.Type == repo.PackFile && len(h.Name) >= 2:
		return path.Join(s.loc.Path, "data", h.Name[:2], h.Name)
	}
	return path.Join(s.loc.Path, string(h.Type), h.Name)
}

// fail turns an SFTP error into one of the package's errors, marking the connection
// dead when it was lost.
func (s *sftpStorage) fail(op string, h repo.Handle, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) {
		s.mu.Lock()
		s.dead = true
		s.mu.Unlock()
		return fmt.Errorf("%s %s on %s: %w (connection lost: %v)", op, h, s.loc.Host, errTransient, err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s %s on %s: %w", op, h, s.loc.Host, fs.ErrNotExist)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s %s on %s: %w: permission denied", op, h, s.loc.Host, ErrRefused)
	}
	return fmt.Errorf("%s %s on %s: %w", op, h, s.loc.Host, err)
}

// Create makes the repository's top folders; data/<2 hex>/ are made when first needed.
func (s *sftpStorage) Create(ctx context.Context) error {
	cl, err := s.client(ctx)
	if err != nil {
		return err
	}
	if err := cl.MkdirAll(s.loc.Path); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: cannot make the folder %s on %s: permission denied", ErrRefused, s.loc.Path, s.loc.Host)
		}
		return s.fail("making", repo.Handle{Type: repo.ConfigFile}, err)
	}
	for _, t := range []repo.FileType{repo.KeyFile, repo.LockFile, repo.SnapshotFile, repo.IndexFile, repo.PackFile} {
		if err := cl.MkdirAll(path.Join(s.loc.Path, string(t))); err != nil {
			return s.fail("making", repo.Handle{Type: t, Name: "."}, err)
		}
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Save writes a temporary file next to the final name, syncs it where the server
// supports fsync@openssh.com, and renames it into place.
func (s *sftpStorage) Save(ctx context.Context, h repo.Handle, data []byte) error {
	if err := validHandle(h); err != nil {
		return err
	}
	cl, err := s.client(ctx)
	if err != nil {
		return err
	}
	final := s.path(h)
	tmp := final + "-tmp-" + randomSuffix()
	done := s.startSaving()
	defer s.endSaving(done) // also when the temporary file is gone on every other path
	f, err := cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if errors.Is(err, fs.ErrNotExist) {
		if merr := cl.MkdirAll(path.Dir(final)); merr == nil {
			f, err = cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		}
	}
	if err != nil {
		return s.fail("saving", h, err)
	}
	f.Chmod(0o600)
	_, err = f.ReadFrom(newBody(ctx, data, s.opt))
	if err == nil {
		if serr := f.Sync(); serr != nil && !isUnsupported(serr) {
			err = serr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if _, ok := cl.HasExtension("posix-rename@openssh.com"); ok {
			err = cl.PosixRename(tmp, final)
		} else {
			err = cl.Rename(tmp, final)
		}
	}
	if err != nil {
		cl.Remove(tmp)
		s.endSaving(done)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.full(ctx, cl, h, int64(len(data)), s.fail("saving", h, err))
	}
	return nil
}

// startSaving records a Save whose temporary file may take room on the server.
func (s *sftpStorage) startSaving() chan struct{} {
	done := make(chan struct{})
	s.mu.Lock()
	if s.saving == nil {
		s.saving = map[chan struct{}]bool{}
	}
	s.saving[done] = true
	s.mu.Unlock()
	return done
}

// endSaving records that the Save's temporary file is renamed or removed (once; more
// calls do nothing).
func (s *sftpStorage) endSaving(done chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saving[done] {
		delete(s.saving, done)
		close(done)
	}
}

// othersSaved waits until the Saves under way now have renamed or removed their
// temporary files (not for Saves started later), or ctx ends.
func (s *sftpStorage) othersSaved(ctx context.Context) {
	s.mu.Lock()
	var wait []chan struct{}
	for c := range s.saving {
		wait = append(wait, c)
	}
	s.mu.Unlock()
	if s.waiting != nil {
		s.waiting()
	}
	for _, c := range wait {
		select {
		case <-c:
		case <-ctx.Done():
			return
		}
	}
}

// full says so when a failed write was for want of space on the server. The room is
// measured once the other files this storage was sending at the time are finished or
// removed: until then their temporary files hold room that a failed copy gives back
// (measured at once, a full disk under four uploads read anything from 0 B to what the
// others would leave).
func (s *sftpStorage) full(ctx context.Context, cl *sftp.Client, h repo.Handle, need int64, err error) error {
	if errors.Is(err, errTransient) {
		return err
	}
	if _, ok := cl.HasExtension("statvfs@openssh.com"); !ok {
		return err
	}
	s.othersSaved(ctx)
	st, serr := cl.StatVFS(path.Dir(s.path(h)))
	if serr != nil {
		return err
	}
	// OpenSSH reports a full disk as a plain failure; with little room left, that is what
	// it was (other files being sent at the same time may have taken the room)
	free := int64(st.Bavail) * int64(st.Frsize)
	if free < need+(32<<20) {
		return &NoSpaceError{Host: s.loc.Host, File: h.String(), Free: free, Need: need, Err: err}
	}
	return err
}

func isUnsupported(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported
}

// Load reads n bytes at off (n <= 0: to the end; off < 0: from the end).
func (s *sftpStorage) Load(ctx context.Context, h repo.Handle, off int64, n int) ([]byte, error) {
	if err := validHandle(h); err != nil {
		return nil, err
	}
	cl, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	f, err := cl.Open(s.path(h))
	if err != nil {
		return nil, s.fail("reading", h, err)
	}
	defer f.Close()
	if off < 0 || n <= 0 {
		fi, err := f.Stat()
		if err != nil {
			return nil, s.fail("reading", h, err)
		}
		if off < 0 {
			off = max(0, fi.Size()+off)
		}
		if n <= 0 {
			n = int(max(0, fi.Size()-off))
		}
	}
	if n > maxLoad {
		return nil, fmt.Errorf("%s on %s: %d bytes is more than a repository file may hold", h, s.loc.Host, n)
	}
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, off)
	if err == io.EOF && m == n {
		err = nil
	}
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s on %s: %w (file shorter than expected)", h, s.loc.Host, io.ErrUnexpectedEOF)
		}
		return nil, s.fail("reading", h, err)
	}
	return buf, nil
}

// maxLoad bounds one read from a server (a hostile one cannot make us allocate more):
// restic's largest pack files are 128 MiB.
const maxLoad = 256 << 20

// ReadAt reads len(p) bytes at off.
func (s *sftpStorage) ReadAt(ctx context.Context, h repo.Handle, p []byte, off int64) error {
	if err := validHandle(h); err != nil {
		return err
	}
	cl, err := s.client(ctx)
	if err != nil {
		return err
	}
	f, err := cl.Open(s.path(h))
	if err != nil {
		return s.fail("reading", h, err)
	}
	defer f.Close()
	m, err := f.ReadAt(p, off)
	if err == io.EOF && m == len(p) {
		err = nil
	}
	if err == io.EOF {
		return fmt.Errorf("%s on %s: %w", h, s.loc.Host, io.ErrUnexpectedEOF)
	}
	return s.fail("reading", h, err)
}

// Sum returns the sha256 and size of a stored file: computed by the server when the
// account may run a shell (sftpsum.go), else by reading the file back.
func (s *sftpStorage) Sum(ctx context.Context, h repo.Handle) ([32]byte, int64, error) {
	if err := validHandle(h); err != nil {
		return [32]byte{}, 0, err
	}
	cl, err := s.client(ctx)
	if err != nil {
		return [32]byte{}, 0, err
	}
	if sum, size, err := s.remoteSum(ctx, cl, h); err == nil {
		return sum, size, nil
	} else if ctx.Err() != nil {
		return [32]byte{}, 0, ctx.Err()
	} else if errors.Is(err, fs.ErrNotExist) {
		return [32]byte{}, 0, s.fail("reading", h, err)
	}
	f, err := cl.Open(s.path(h))
	if err != nil {
		return [32]byte{}, 0, s.fail("reading", h, err)
	}
	defer f.Close()
	hs := sha256.New()
	n, err := f.WriteTo(hs)
	if err != nil {
		return [32]byte{}, 0, s.fail("reading", h, err)
	}
	var sum [32]byte
	hs.Sum(sum[:0])
	return sum, n, nil
}

// remoteSum has the server hash the file, saving a download of it. An error says to read
// it back instead (or that it is missing: fs.ErrNotExist).
func (s *sftpStorage) remoteSum(ctx context.Context, cl *sftp.Client, h repo.Handle) ([32]byte, int64, error) {
	var sum [32]byte
	s.mu.Lock()
	shells, noExec := s.shells, s.noExec
	s.mu.Unlock()
	if shells == nil || noExec {
		return sum, 0, errNoShell
	}
	p := s.path(h)
	fi, err := cl.Stat(p)
	if err != nil {
		return sum, 0, err
	}
	if strings.ContainsAny(p, "\r\n") {
		return sum, 0, errNoHash
	}
	if !strings.HasPrefix(p, "/") {
		p = "./" + p // never read as an option
	}
	sh, err := shells.get(ctx)
	if err != nil {
		if errors.Is(err, errNoShell) {
			s.mu.Lock()
			if s.shells == shells {
				s.noExec = true // ask once per connection
			}
			s.mu.Unlock()
		}
		return sum, 0, err
	}
	sum, err = sh.hash(ctx, p)
	if err != nil && !errors.Is(err, errNoHash) {
		shells.drop(sh)
		return sum, 0, err
	}
	shells.put(sh)
	if err == nil {
		s.serverSums.Add(1)
	}
	return sum, fi.Size(), err
}

// Stat returns the size of a file.
func (s *sftpStorage) Stat(ctx context.Context, h repo.Handle) (int64, error) {
	if err := validHandle(h); err != nil {
		return 0, err
	}
	cl, err := s.client(ctx)
	if err != nil {
		return 0, err
	}
	fi, err := cl.Stat(s.path(h))
	if err != nil {
		return 0, s.fail("looking up", h, err)
	}
	return fi.Size(), nil
}

// List calls fn for every file of type t; the data folders are read in parallel.
func (s *sftpStorage) List(ctx context.Context, t repo.FileType, fn func(string, int64) error) error {
	cl, err := s.client(ctx)
	if err != nil {
		return err
	}
	dir := path.Join(s.loc.Path, string(t))
	dirs := []string{dir}
	if t == repo.PackFile {
		subs, err := cl.ReadDirContext(ctx, dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return s.fail("listing", repo.Handle{Type: t, Name: "."}, err)
		}
		dirs = dirs[:0]
		for _, e := range subs {
			if e.IsDir() && len(e.Name()) == 2 {
				dirs = append(dirs, path.Join(dir, e.Name()))
			}
		}
	}
	type entry struct {
		name string
		size int64
	}
	results := make([][]entry, len(dirs))
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, d := range dirs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ents, err := cl.ReadDirContext(ctx, d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs[i] = err
				return
			}
			for _, e := range ents {
				if e.Mode().IsRegular() && !strings.Contains(e.Name(), "-tmp-") && !strings.HasPrefix(e.Name(), ".") {
					results[i] = append(results[i], entry{e.Name(), e.Size()})
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return s.fail("listing", repo.Handle{Type: t, Name: "."}, err)
		}
	}
	for _, r := range results {
		for _, e := range r {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(e.name, e.size); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove deletes a file.
func (s *sftpStorage) Remove(ctx context.Context, h repo.Handle) error {
	if err := validHandle(h); err != nil {
		return err
	}
	cl, err := s.client(ctx)
	if err != nil {
		return err
	}
	return s.fail("removing", h, cl.Remove(s.path(h)))
}

// Close ends the connection.
func (s *sftpStorage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sc != nil {
		s.shells.close()
		s.sc.Close()
		s.conn.Close()
		s.sc, s.conn, s.shells = nil, nil, nil
	}
	return nil
}

// validHandle refuses names that could leave the repository's folders.
func validHandle(h repo.Handle) error {
	if h.Type == repo.ConfigFile {
		return nil
	}
	switch h.Type {
	case repo.KeyFile, repo.LockFile, repo.SnapshotFile, repo.IndexFile, repo.PackFile:
	default:
		return fmt.Errorf("invalid file type %q", h.Type)
	}
	if h.Name == "" || len(h.Name) > 128 || strings.ContainsAny(h.Name, "/\\\x00") || h.Name[0] == '.' {
		return fmt.Errorf("invalid file name %q", h.Name)
	}
	return nil
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
