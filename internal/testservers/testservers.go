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
	argv []string
	env  []string
	// Addr is 127.0.0.1:PORT.
	Addr string
	Port int
	// Dir is the folder the server keeps its files in.
	Dir string
	// Log collects the server's output.
	Log string

	mu  sync.Mutex
	cmd *exec.Cmd
}

func freePort(t TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs the server and waits until its port accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatalf("%s already running", s.name)
	}
	lf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatalf("%v", err)
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		s.t.Fatalf("starting %s: %v", s.name, err)
	}
	lf.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.cmd = cmd
	// readiness, not a timed assertion: a server that never listens fails the test
	for i := 0; ; i++ {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(s.Log)
			s.cmd = nil
			s.t.Fatalf("%s exited at start: %v\n%s", s.name, err, log)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i > 600 {
			s.t.Fatalf("%s does not listen on %s", s.name, s.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	go func() {
		// reap it when it is killed
		<-exited
	}()
}

// Kill stops the server at once (SIGKILL), as a crash or a cut cable would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	// wait until the port is free again
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(25 * time.Millisecond)
	}
	s.cmd = nil
}

// Restart kills and starts the server again, on the same port and folder.
func (s *Server) Restart() {
	s.Kill()
	s.Start()
}

func newServer(t TB, name string) *Server {
	dir := t.TempDir()
	port := freePort(t)
	s := &Server{t: t, name: name, Dir: dir, Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port),
		Log: filepath.Join(dir, name+".log")}
	t.Cleanup(s.Kill)
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
	s.argv = []string{sshd, "-D", "-e", "-f", s.cfg}
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
	s.argv = []string{bin, "--port", s.Addr, "--quiet", "posix", "--nometa", root}
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
	s.argv = []string{rclone, "serve", "restic", "--addr", s.Addr}
	if o.AppendOnly {
		s.argv = append(s.argv, "--append-only")
	}
	if o.Auth {
		s.User, s.Password = "kit", randHex(12)
		hp := filepath.Join(s.Dir, "htpasswd")
		if err := os.WriteFile(hp, []byte(s.User+":"+htpasswdSHA(s.Password)+"\n"), 0o600); err != nil {
			t.Fatalf("%v", err)
		}
		s.argv = append(s.argv, "--htpasswd", hp)
	}
	if o.CertFile != "" {
		s.argv = append(s.argv, "--cert", o.CertFile, "--key", o.KeyFile)
	}
	s.argv = append(s.argv, root)
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
