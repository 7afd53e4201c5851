//go:build linux

package testservers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// ScriptCmds are the testscript commands that run the servers of this package on
// 127.0.0.1 (cmd/travelkit's remote scripts; wintest's, for travelkit.exe under Wine):
//
//	server sshd NAME                start OpenSSH's sshd; sets NAME_ROOT, NAME_PORT, NAME_USER,
//	                                NAME_HOSTKEY (and NAME_HOSTKEY_RE, quoted for a regexp),
//	                                NAME_KEY (the user key, also in $WORK/NAME_key),
//	                                NAME_KNOWNHOSTS, NAME_SSH (an ssh command for restic
//	                                -o sftp.command)
//	server s3 NAME                  start versitygw; sets NAME_ADDR, NAME_DIR (a folder per bucket),
//	                                NAME_CREDS (a --credentials-file, also $WORK/NAME_creds),
//	                                NAME_SECRET, and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//	                                (for restic)
//	server rest NAME [append-only] [auth] [tls]
//	                                start rclone serve restic; sets NAME_ADDR, NAME_DIR, NAME_USER,
//	                                NAME_PASS (auth), NAME_CA (tls: the CA's certificate)
//	server kill|start|restart NAME  stop at once (SIGKILL), start again, both
//	server newhostkey NAME          give sshd a new host key (at its next start)
//
// Each server is stopped when its script ends.
func ScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){"server": cmdServer}
}

// scriptTB lets the servers run under a script.
type scriptTB struct{ ts *testscript.TestScript }

func (t scriptTB) Helper()                           {}
func (t scriptTB) Fatalf(format string, args ...any) { t.ts.Fatalf(format, args...) }
func (t scriptTB) Cleanup(f func())                  { t.ts.Defer(f) }
func (t scriptTB) TempDir() string {
	d, err := os.MkdirTemp(t.ts.Getenv("WORK"), "srv")
	t.ts.Check(err)
	return d
}

// The servers of each running script, by NAME, for server kill/start/restart/newhostkey.
var (
	scriptServersMu sync.Mutex
	scriptServers   = map[*testscript.TestScript]map[string]any{}
)

func scriptServer(ts *testscript.TestScript, name string) any {
	scriptServersMu.Lock()
	defer scriptServersMu.Unlock()
	s := scriptServers[ts][name]
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
		s := StartSSHD(scriptTB{ts})
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
		s := StartS3(scriptTB{ts})
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
		var o RESTOptions
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
		s := StartREST(scriptTB{ts}, o)
		set("ADDR", s.Addr)
		set("DIR", filepath.Join(s.Dir, "repos"))
		set("USER", s.User)
		set("PASS", s.Password)
		srv = s
	case "kill", "start", "restart", "newhostkey":
		var base *Server
		switch v := scriptServer(ts, name).(type) {
		case *SSHD:
			base = v.Server
			if args[0] == "newhostkey" {
				v.NewHostKey()
				set("HOSTKEY", v.HostKey)
				set("HOSTKEY_RE", regexp.QuoteMeta(v.HostKey))
				return
			}
		case *S3:
			base = v.Server
		case *REST:
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
	scriptServersMu.Lock()
	if scriptServers[ts] == nil {
		scriptServers[ts] = map[string]any{}
		ts.Defer(func() {
			scriptServersMu.Lock()
			delete(scriptServers, ts)
			scriptServersMu.Unlock()
		})
	}
	scriptServers[ts][name] = srv
	scriptServersMu.Unlock()
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
