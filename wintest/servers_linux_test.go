//go:build linux

package wintest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/internal/testservers"
)

// serverCmds are the script commands that run real servers on 127.0.0.1 for
// travelkit.exe's off-site copies (its SFTP, S3 and REST clients run under Wine, the
// servers on Linux):
//
//	server sshd NAME   OpenSSH's sshd; sets NAME_ROOT, NAME_PORT, NAME_USER, NAME_HOSTKEY
//	                   and writes the user key to NAME_key in $WORK; NAME_SSH is an ssh
//	                   command for Debian's restic (-o sftp.command)
//	server s3 NAME     versitygw; sets NAME_ADDR, NAME_DIR (a folder per bucket) and
//	                   writes NAME_creds (a --credentials-file); AWS_ACCESS_KEY_ID and
//	                   AWS_SECRET_ACCESS_KEY for Debian's restic
//	server rest NAME   rclone serve restic; sets NAME_ADDR, NAME_DIR
var serverCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"server": cmdServer,
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

func cmdServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: server sshd|s3|rest NAME")
	}
	name := args[1]
	set := func(k, v string) { ts.Setenv(name+"_"+k, v) }
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
		set("SSH", fmt.Sprintf("ssh -i %s -p %d -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes %s@127.0.0.1 -s sftp", key, s.Port, kh, s.User))
	case "s3":
		s := testservers.StartS3(tsTB{ts})
		creds := ts.MkAbs(name + "_creds")
		ts.Check(os.WriteFile(creds, []byte("AWS_ACCESS_KEY_ID="+s.AccessKey+"\nAWS_SECRET_ACCESS_KEY="+s.SecretKey+"\n"), 0o600))
		set("ADDR", s.Addr)
		set("DIR", filepath.Join(s.Dir, "buckets"))
		ts.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
		ts.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	case "rest":
		s := testservers.StartREST(tsTB{ts}, testservers.RESTOptions{})
		set("ADDR", s.Addr)
		set("DIR", filepath.Join(s.Dir, "repos"))
	default:
		ts.Fatalf("server: unknown kind %s", args[0])
	}
}
