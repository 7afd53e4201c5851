//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/internal/bytesize"
	"travelkit/internal/testservers"
)

// serverCmds are the script commands that run real servers on 127.0.0.1 (remote tests):
//
//	server sshd NAME                start OpenSSH's sshd; sets NAME_ROOT, NAME_PORT, NAME_USER,
//	                                NAME_HOSTKEY, NAME_KEY (user key file), NAME_KNOWNHOSTS, NAME_SSH
//	                                (an ssh command for restic -o sftp.command)
//	server s3 NAME                  start versitygw; sets NAME_ADDR, NAME_DIR (a folder per bucket),
//	                                NAME_CREDS (a credentials file), AWS_ACCESS_KEY_ID,
//	                                AWS_SECRET_ACCESS_KEY (for restic), NAME_SECRET
//	server rest NAME [append-only] [auth] [tls]
//	                                start rclone serve restic; sets NAME_ADDR, NAME_DIR, NAME_USER,
//	                                NAME_PASS (auth), NAME_CA (tls: the CA's certificate)
//	server kill|start|restart NAME  stop at once (SIGKILL), start again, both
//	server newhostkey NAME          give sshd a new host key (at its next start)
//	waitfiles DIR N                 wait until DIR holds N files (or more), at any depth
//	argvclean SECRET...             no process of the machine has SECRET in its command line
//	nosecret FILE SECRET...         FILE (read in pieces, a disk image) does not contain SECRET
//	randfile SIZE FILE              SIZE random bytes (data that does not compress)
//	tmpfs DIR SIZE                  mount a tmpfs of SIZE on DIR, or resize it (root)
var serverCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"server":    cmdServer,
	"waitfiles": cmdWaitFiles,
	"argvclean": cmdArgvClean,
	"nosecret":  cmdNoSecret,
	"randfile":  cmdRandFile,
	"tmpfs":     cmdTmpfs,
}

// cmdTmpfs: tmpfs DIR SIZE mounts a small tmpfs on DIR (a disk that fills up), or
// changes its size when it is mounted (making room); unmounted when the script ends.
// Needs root.
func cmdTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	size := strings.TrimSuffix(strings.TrimSuffix(args[1], "iB"), "B")
	mounted := map[string]bool{}
	if b, err := os.ReadFile("/proc/self/mounts"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 {
				mounted[f[1]] = true
			}
		}
	}
	if mounted[dir] {
		ts.Check(ts.Exec("mount", "-o", "remount,size="+size, dir))
		return
	}
	ts.Check(os.MkdirAll(dir, 0o700))
	ts.Check(ts.Exec("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir))
	ts.Defer(func() { exec.Command("umount", "-l", dir).Run() })
}

// cmdRandFile: randfile SIZE FILE writes SIZE random bytes (data that does not compress).
func cmdRandFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: randfile SIZE FILE")
	}
	n, err := bytesize.Parse(args[0])
	ts.Check(err)
	p := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o700))
	f, err := os.Create(p)
	ts.Check(err)
	_, err = io.CopyN(f, rand.Reader, n)
	ts.Check(err)
	ts.Check(f.Close())
}

// tsTB lets testservers run under a script.
type tsTB struct{ ts *testscript.TestScript }

func (t tsTB) Helper()                           {}
func (t tsTB) Fatalf(format string, args ...any) { t.ts.Fatalf(format, args...) }
func (t tsTB) Cleanup(f func())                  { t.ts.Defer(f) }
func (t tsTB) TempDir() string {
	d, err := os.MkdirTemp(t.ts.Getenv("WORK"), "srv")
	t.ts.Check(err)
	return d
}

var (
	serversMu sync.Mutex
	servers   = map[*testscript.TestScript]map[string]any{}
)

func server(ts *testscript.TestScript, name string) any {
	serversMu.Lock()
	defer serversMu.Unlock()
	s := servers[ts][name]
	if s == nil {
		ts.Fatalf("no server %s", name)
	}
	return s
}

func cmdServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: server sshd|s3|rest|kill|start|restart|newhostkey NAME ...")
	}
	name := args[1]
	set := func(k, v string) { ts.Setenv(name+"_"+k, v) }
	var srv any
	switch args[0] {
	case "sshd":
		s := testservers.StartSSHD(tsTB{ts})
		key := ts.MkAbs(name + "_key")
		ts.Check(os.WriteFile(key, s.UserKey, 0o600))
		kh := ts.MkAbs(name + "_known_hosts")
		s.KnownHosts(kh)
		set("ROOT", s.Root)
		set("PORT", strconv.Itoa(s.Port))
		set("USER", s.User)
		set("HOSTKEY", s.HostKey)
		set("HOSTKEY_RE", regexp.QuoteMeta(s.HostKey))
		set("KEY", key)
		set("KNOWNHOSTS", kh)
		set("SSH", fmt.Sprintf("ssh -i %s -p %d -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes %s@127.0.0.1 -s sftp", key, s.Port, kh, s.User))
		srv = s
	case "s3":
		s := testservers.StartS3(tsTB{ts})
		creds := ts.MkAbs(name + "_creds")
		ts.Check(os.WriteFile(creds, []byte("AWS_ACCESS_KEY_ID="+s.AccessKey+"\nAWS_SECRET_ACCESS_KEY="+s.SecretKey+"\n"), 0o600))
		set("ADDR", s.Addr)
		set("DIR", filepath.Join(s.Dir, "buckets"))
		set("CREDS", creds)
		set("SECRET", s.SecretKey)
		ts.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
		ts.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
		srv = s
	case "rest":
		var o testservers.RESTOptions
		for _, a := range args[2:] {
			switch a {
			case "append-only":
				o.AppendOnly = true
			case "auth":
				o.Auth = true
			case "tls":
				dir := ts.MkAbs(name + "_tls")
				ts.Check(os.MkdirAll(dir, 0o700))
				ca, cert, key := makeTLS(ts, dir)
				o.CertFile, o.KeyFile = cert, key
				set("CA", ca)
			default:
				ts.Fatalf("server rest: unknown option %s", a)
			}
		}
		s := testservers.StartREST(tsTB{ts}, o)
		set("ADDR", s.Addr)
		set("DIR", filepath.Join(s.Dir, "repos"))
		set("USER", s.User)
		set("PASS", s.Password)
		srv = s
	case "kill", "start", "restart", "newhostkey":
		s := server(ts, name)
		var base *testservers.Server
		switch v := s.(type) {
		case *testservers.SSHD:
			base = v.Server
			if args[0] == "newhostkey" {
				v.NewHostKey()
				set("HOSTKEY", v.HostKey)
				set("HOSTKEY_RE", regexp.QuoteMeta(v.HostKey))
				return
			}
		case *testservers.S3:
			base = v.Server
		case *testservers.REST:
			base = v.Server
		}
		switch args[0] {
		case "kill":
			base.Kill()
		case "start":
			base.Start()
		case "restart":
			base.Restart()
		default:
			ts.Fatalf("newhostkey is for sshd")
		}
		return
	default:
		ts.Fatalf("server: unknown kind %s", args[0])
	}
	serversMu.Lock()
	if servers[ts] == nil {
		servers[ts] = map[string]any{}
		ts.Defer(func() {
			serversMu.Lock()
			delete(servers, ts)
			serversMu.Unlock()
		})
	}
	servers[ts][name] = srv
	serversMu.Unlock()
}

// makeTLS writes a private CA and a certificate for 127.0.0.1 signed by it.
func makeTLS(ts *testscript.TestScript, dir string) (ca, cert, key string) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "travelkit test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ts.Check(err)
	caCert, err := x509.ParseCertificate(caDER)
	ts.Check(err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	ts.Check(err)
	kb, err := x509.MarshalECPrivateKey(srvKey)
	ts.Check(err)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ts.Check(os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	ts.Check(os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o600))
	ts.Check(os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return ca, cert, key
}

func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// cmdWaitFiles waits for a copy in the background to have sent some files; a copy that
// never does fails the script (after two minutes), so the wait is not a timed assertion.
func cmdWaitFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfiles DIR N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	for i := 0; countFiles(dir) < n; i++ {
		if i > 2400 {
			ts.Fatalf("%s holds %d files, not %d", dir, countFiles(dir), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func cmdArgvClean(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: argvclean SECRET...")
	}
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	ts.Check(err)
	seen := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		seen++
		for _, s := range args {
			if s != "" && bytes.Contains(b, []byte(s)) {
				ts.Fatalf("a command line holds a secret: %s: %q", p, strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
	}
	if seen == 0 {
		ts.Fatalf("no process found in /proc")
	}
}

func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret FILE SECRET...")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	longest := 0
	for _, s := range args[1:] {
		longest = max(longest, len(s))
	}
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 0, 2<<20)
	chunk := make([]byte, 1<<20)
	var off int64
	for {
		n, err := io.ReadFull(r, chunk)
		buf = append(buf, chunk[:n]...)
		for _, s := range args[1:] {
			if i := bytes.Index(buf, []byte(s)); i >= 0 {
				ts.Fatalf("%s holds a secret at byte %d", args[0], off+int64(i))
			}
		}
		if err != nil {
			break
		}
		// keep the tail, for a secret across two pieces
		keep := min(len(buf), longest)
		off += int64(len(buf) - keep)
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
}
