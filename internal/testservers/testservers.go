//go:build linux

package testservers

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// VersityGWVersion is the pinned versitygw (also in scripts/build-test-servers.sh).
const VersityGWVersion = "v1.8.0"

// Cache is where scripts/build-test-servers.sh puts what it builds.
func Cache() string {
	if c := os.Getenv("TRAVELKIT_TEST_CACHE"); c != "" {
		return c
	}
	return "/var/cache/travelkit-test"
}

// TB is what the servers need of a test: a testing.TB, or an adapter (testscript).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// Server is one running server process.
type Server struct {
	t    TB
	name string
	// command gives the server's command line for s.Addr and s.Port (writing a
	// configuration file that names the port, for sshd); called before each start,
	// as the port can change before the first start succeeds.
	command func() []string
	env     []string
	// Addr is 127.0.0.1:PORT.
	Addr string
	Port int
	// Dir is the folder the server keeps its files in.
	Dir string
	// Log collects the server's output.
	Log string

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed once cmd has exited and been reaped
	exited chan struct{}
	// fixed: the server has listened on Port, which clients now know (the port no
	// longer changes: Restart uses it again)
	fixed bool
}

// pickPort is the port a server is started on: one the kernel hands out for
// 127.0.0.1:0 (a test can replace it, to play another test run taking the port).
var pickPort = freePort

func freePort(t TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) setPort(port int) {
	s.Port = port
	s.Addr = "127.0.0.1:" + strconv.Itoa(port)
}

// startAttempts bounds how many ports a first start tries.
const startAttempts = 5

// Start runs the server and waits until it listens on its port: until the server's own
// process holds the listening socket of 127.0.0.1:PORT, not merely until the port
// accepts a connection (which another process could do). The port comes from the
// kernel (127.0.0.1:0), but it is free again between that and the server's bind:
// another test run on the machine (a second clone, CI beside a developer) can take it.
// So a first start that finds the port taken, or a server that exits at once, goes to
// another port (up to startAttempts ports, each noted in the log). Once the server has
// listened, its port stays: a start after Kill that finds the port taken fails, naming
// the process that holds it.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatalf("%s already running", s.name)
	}
	for attempt := 1; ; attempt++ {
		err := s.startOnce()
		if err == nil {
			s.fixed = true
			return
		}
		if s.fixed || attempt == startAttempts {
			s.t.Fatalf("%v", err)
		}
		old := s.Port
		s.setPort(pickPort(s.t))
		s.note("testservers: %v\ntestservers: %s: port %d failed, trying port %d", err, s.name, old, s.Port)
	}
}

// note appends a line to the server's log.
func (s *Server) note(format string, args ...any) {
	if f, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
		fmt.Fprintf(f, format+"\n", args...)
		f.Close()
	}
}

// startOnce starts the server on s.Port; nil once it listens there.
func (s *Server) startOnce() error {
	lf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	argv := s.command()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("starting %s: %v", s.name, err)
	}
	lf.Close()
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		s.cmd, s.exited = nil, nil
	}
	// readiness, not a timed assertion: a server that never listens fails the test
	for i := 0; ; i++ {
		select {
		case <-exited:
			log, _ := os.ReadFile(s.Log)
			s.cmd, s.exited = nil, nil
			return fmt.Errorf("%s exited at start on port %d: %v\n%s", s.name, s.Port, waitErr, log)
		default:
		}
		ours, other := listening(s.Port, cmd.Process.Pid)
		if ours {
			return nil
		}
		if other != "" {
			stop()
			return fmt.Errorf("%s: port %d is taken by another process (%s), not this test's server", s.name, s.Port, other)
		}
		if i > 600 {
			stop()
			return fmt.Errorf("%s does not listen on %s", s.name, s.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL), as a crash or a cut cable would, and waits
// until it has exited (its port is free again).
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Restart kills and starts the server again, on the same port and folder.
func (s *Server) Restart() {
	s.Kill()
	s.Start()
}

func newServer(t TB, name string) *Server {
	dir := t.TempDir()
	s := &Server{t: t, name: name, Dir: dir, Log: filepath.Join(dir, name+".log")}
	s.setPort(pickPort(t))
	t.Cleanup(s.Kill)
	return s
}

// StartCommand starts another server program on a loopback port as this package's
// servers start (a port from the kernel, the server's own process listening on it, another
// port when another process took it; stopped when the test ends). command gives its
// command line for the port; its output goes to Log.
func StartCommand(t TB, name string, command func(port int) []string) *Server {
	t.Helper()
	s := newServer(t, name)
	s.command = func() []string { return command(s.Port) }
	s.Start()
	return s
}

func need(t TB, path, how string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: %s", path, how)
	}
	return path
}

// SSHD is an OpenSSH server on loopback.
type SSHD struct {
	*Server
	// User is the login name (the user running the tests).
	User string
	// UserKey is the OpenSSH private key that logs in (unencrypted PEM).
	UserKey []byte
	// HostKey is the fingerprint of the server's ed25519 host key (SHA256:...).
	HostKey string
	// Root is a folder for repositories, writable by User.
	Root string
	cfg  string
}

func writeKey(t TB, path string) (ssh.PublicKey, []byte) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("%v", err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatalf("%v", err)
	}
	b := pem.EncodeToMemory(blk)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("%v", err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return sp, b
}

// StartSSHD starts sshd with a fresh ed25519 host key and a fresh user key. The SFTP
// subsystem is sshd's internal-sftp. Extra lines go into sshd_config (ForceCommand
// internal-sftp: an SFTP-only account, as helplines often give).
func StartSSHD(t TB, extra ...string) *SSHD {
	t.Helper()
	sshd := need(t, "/usr/sbin/sshd", "install openssh-server (scripts/install-test-deps.sh)")
	s := &SSHD{Server: newServer(t, "sshd")}
	s.Root = filepath.Join(s.Dir, "srv")
	if err := os.MkdirAll(s.Root, 0o700); err != nil {
		t.Fatalf("%v", err)
	}
	// privilege separation needs its empty folder
	os.MkdirAll("/run/sshd", 0o755)
	userPub, userKey := writeKey(t, filepath.Join(s.Dir, "user_key"))
	s.UserKey = userKey
	if err := os.WriteFile(filepath.Join(s.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		t.Fatalf("%v", err)
	}
	s.NewHostKey()
	u := os.Getenv("USER")
	if u == "" {
		u = "root"
	}
	if os.Geteuid() == 0 {
		u = "root"
	}
	s.User = u
	s.cfg = filepath.Join(s.Dir, "sshd_config")
	s.command = func() []string {
		cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
%s`, s.Port, filepath.Join(s.Dir, "host_ed25519"), filepath.Join(s.Dir, "sshd.pid"), filepath.Join(s.Dir, "authorized_keys"), strings.Join(append(extra, ""), "\n"))
		if err := os.WriteFile(s.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatalf("%v", err)
		}
		return []string{sshd, "-D", "-e", "-f", s.cfg}
	}
	s.Start()
	return s
}

// NewHostKey replaces the host key (takes effect at the next Start or Restart).
func (s *SSHD) NewHostKey() {
	p := filepath.Join(s.Dir, "host_ed25519")
	os.Remove(p)
	pub, _ := writeKey(s.t, p)
	s.HostKey = ssh.FingerprintSHA256(pub)
}

// KnownHosts writes a known_hosts file naming the server's current host key.
func (s *SSHD) KnownHosts(path string) {
	pub, err := os.ReadFile(filepath.Join(s.Dir, "host_ed25519"))
	if err != nil {
		s.t.Fatalf("%v", err)
	}
	sg, err := ssh.ParsePrivateKey(pub)
	if err != nil {
		s.t.Fatalf("%v", err)
	}
	line := fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, ssh.MarshalAuthorizedKey(sg.PublicKey()))
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		s.t.Fatalf("%v", err)
	}
}

// Location is the sftp location of a folder under Root, in restic's URL form.
func (s *SSHD) Location(name string) string {
	return fmt.Sprintf("sftp://%s@127.0.0.1:%d/%s", s.User, s.Port, filepath.Join(s.Root, name))
}

// S3 is an S3 server (versitygw over a folder) on loopback.
type S3 struct {
	*Server
	AccessKey, SecretKey string
}

// StartS3 starts versitygw with a random root key; Dir holds one folder per bucket.
func StartS3(t TB) *S3 {
	t.Helper()
	bin := need(t, filepath.Join(Cache(), "versitygw-"+VersityGWVersion, "versitygw"),
		"run scripts/build-test-servers.sh (make test-deps does)")
	s := &S3{Server: newServer(t, "versitygw"), AccessKey: "tk" + randHex(8), SecretKey: randHex(20)}
	root := filepath.Join(s.Dir, "buckets")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatalf("%v", err)
	}
	s.env = []string{"ROOT_ACCESS_KEY_ID=" + s.AccessKey, "ROOT_SECRET_ACCESS_KEY=" + s.SecretKey}
	s.command = func() []string { return []string{bin, "--port", s.Addr, "--quiet", "posix", "--nometa", root} }
	s.Start()
	return s
}

// MakeBucket creates a bucket (a folder of the posix backend).
func (s *S3) MakeBucket(name string) {
	if err := os.Mkdir(filepath.Join(s.Dir, "buckets", name), 0o700); err != nil {
		s.t.Fatalf("%v", err)
	}
}

// Location is the s3 location of a prefix in a bucket.
func (s *S3) Location(bucket, prefix string) string {
	return "s3:http://" + s.Addr + "/" + bucket + "/" + prefix
}

// REST is a server of restic's REST protocol: rclone serve restic.
type REST struct {
	*Server
	User, Password string
}

// RESTOptions choose how the REST server runs.
type RESTOptions struct {
	AppendOnly bool
	// Auth requires HTTP basic authentication (a htpasswd file).
	Auth bool
	// TLS serves https with this certificate and key (PEM files).
	CertFile, KeyFile string
}

// StartREST starts rclone serve restic over Dir/repos.
func StartREST(t TB, o RESTOptions) *REST {
	t.Helper()
	rclone := need(t, "/usr/bin/rclone", "install rclone (scripts/install-test-deps.sh)")
	s := &REST{Server: newServer(t, "rest")}
	root := filepath.Join(s.Dir, "repos")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatalf("%v", err)
	}
	conf := filepath.Join(s.Dir, "rclone.conf")
	os.WriteFile(conf, nil, 0o600)
	s.env = []string{"RCLONE_CONFIG=" + conf}
	var opts []string
	if o.AppendOnly {
		opts = append(opts, "--append-only")
	}
	if o.Auth {
		s.User, s.Password = "kit", randHex(12)
		hp := filepath.Join(s.Dir, "htpasswd")
		if err := os.WriteFile(hp, []byte(s.User+":"+htpasswdSHA(s.Password)+"\n"), 0o600); err != nil {
			t.Fatalf("%v", err)
		}
		opts = append(opts, "--htpasswd", hp)
	}
	if o.CertFile != "" {
		opts = append(opts, "--cert", o.CertFile, "--key", o.KeyFile)
	}
	s.command = func() []string {
		return append(append([]string{rclone, "serve", "restic", "--addr", s.Addr}, opts...), root)
	}
	s.Start()
	return s
}

// Location is the rest location of a repository path.
func (s *REST) Location(path string, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	return "rest:" + scheme + "://" + s.Addr + "/" + path + "/"
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", b)
}

// htpasswdSHA is the {SHA} form of a htpasswd entry.
func htpasswdSHA(pw string) string {
	h := sha1.Sum([]byte(pw))
	return "{SHA}" + base64.StdEncoding.EncodeToString(h[:])
}
