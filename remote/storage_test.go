//go:build linux

// These tests run the storages against real servers that internal/testservers starts on
// loopback (OpenSSH's sshd with a POSIX shell account, versitygw for S3, rclone serve
// restic), restart them and change their files on disk. They are Linux programs started by
// the test binary, and a Windows test binary cannot start them: under Wine, CreateProcess
// of a Linux executable gives Go no process handle ("WaitForSingleObject: Invalid
// handle"). The Windows client code is run under Wine against the same servers, started
// from the Linux side, by wintest's remote.txtar (travelkit.exe remote add and copy to
// sftp: and rest:); these tests stay in the Linux suite.

package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"travelkit/internal/testservers"
	"travelkit/repo"
)

func randomFile(t *testing.T, n int) ([]byte, string) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

// conformance runs the same checks on every kind of storage: what repo.Storage promises.
func conformance(t *testing.T, st Storage) {
	ctx := context.Background()
	if err := st.Create(ctx); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := st.Stat(ctx, repo.Handle{Type: repo.ConfigFile}); !repo.IsNotExist(err) {
		t.Fatalf("Stat of a missing config: %v, want not-exist", err)
	}
	data, name := randomFile(t, 3<<20+17)
	h := repo.Handle{Type: repo.PackFile, Name: name}
	if err := st.Save(ctx, h, data); err != nil {
		t.Fatalf("Save: %v", err)
	}
	small, sname := randomFile(t, 100)
	if err := st.Save(ctx, repo.Handle{Type: repo.IndexFile, Name: sname}, small); err != nil {
		t.Fatal(err)
	}
	cfg := []byte("config bytes")
	if err := st.Save(ctx, repo.Handle{Type: repo.ConfigFile}, cfg); err != nil {
		t.Fatal(err)
	}
	if b, err := st.Load(ctx, repo.Handle{Type: repo.ConfigFile}, 0, 0); err != nil || !bytes.Equal(b, cfg) {
		t.Fatalf("config: %q %v", b, err)
	}
	if n, err := st.Stat(ctx, h); err != nil || n != int64(len(data)) {
		t.Fatalf("Stat: %d %v", n, err)
	}
	for _, c := range []struct {
		off  int64
		n    int
		want []byte
	}{
		{0, 0, data},
		{10, 100, data[10:110]},
		{int64(len(data)) - 5, 0, data[len(data)-5:]},
		{-40, 0, data[len(data)-40:]},
		{-40, 8, data[len(data)-40 : len(data)-32]},
		{1 << 20, 0, data[1<<20:]},
	} {
		b, err := st.Load(ctx, h, c.off, c.n)
		if err != nil || !bytes.Equal(b, c.want) {
			t.Fatalf("Load(%d, %d): %d bytes, %v", c.off, c.n, len(b), err)
		}
	}
	p := make([]byte, 4096)
	if err := st.ReadAt(ctx, h, p, 12345); err != nil || !bytes.Equal(p, data[12345:12345+4096]) {
		t.Fatalf("ReadAt: %v", err)
	}
	sum, size, err := st.Sum(ctx, h)
	if err != nil || hex.EncodeToString(sum[:]) != name || size != int64(len(data)) {
		t.Fatalf("Sum: %x %d %v", sum, size, err)
	}
	var names []string
	if err := st.List(ctx, repo.PackFile, func(n string, size int64) error {
		if size != int64(len(data)) {
			t.Errorf("List: %s size %d", n, size)
		}
		names = append(names, n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != name {
		t.Fatalf("List data: %v", names)
	}
	names = nil
	st.List(ctx, repo.SnapshotFile, func(n string, _ int64) error { names = append(names, n); return nil })
	if len(names) != 0 {
		t.Fatalf("List snapshots: %v", names)
	}
	missing := repo.Handle{Type: repo.PackFile, Name: sname}
	if _, err := st.Load(ctx, missing, 0, 0); !repo.IsNotExist(err) {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if err := st.Remove(ctx, h); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := st.Stat(ctx, h); !repo.IsNotExist(err) {
		t.Fatalf("Stat after Remove: %v", err)
	}
	if err := st.Save(ctx, repo.Handle{Type: repo.PackFile, Name: "../../escape"}, small); err == nil {
		t.Fatal("a name with slashes was saved")
	}
	names = nil
	st.List(ctx, repo.IndexFile, func(n string, _ int64) error { names = append(names, n); return nil })
	sort.Strings(names)
	if len(names) != 1 {
		t.Fatalf("List index: %v", names)
	}
}

func TestSFTPStorage(t *testing.T) {
	srv := testservers.StartSSHD(t)
	loc, err := ParseLocation(srv.Location("repo"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cred := &Credentials{SSHKey: srv.UserKey, HostKey: srv.HostKey}
	st, err := Open(ctx, loc, cred, Options{NoAgent: true, NoDefaultKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conformance(t, st)
	if st.(*sftpStorage).noExec {
		t.Fatal("sha256sum did not run on a shell account")
	}
	if got := st.(*sftpStorage).HostKey(); got != "ssh-ed25519 "+srv.HostKey {
		t.Fatalf("accepted host key %q", got)
	}

	// a changed host key is refused, naming the key shown
	srv.NewHostKey()
	srv.Restart()
	_, err = Open(ctx, loc, cred, Options{NoAgent: true, NoDefaultKeys: true})
	var hk *HostKeyError
	if !errors.As(err, &hk) || !hk.Changed || hk.Shown != srv.HostKey {
		t.Fatalf("changed host key: %v", err)
	}
	// unknown host: not in known_hosts, nothing pinned
	kh := t.TempDir() + "/known_hosts"
	_, err = Open(ctx, loc, &Credentials{SSHKey: srv.UserKey, KnownHosts: []string{kh}}, Options{NoAgent: true, NoDefaultKeys: true})
	if !errors.As(err, &hk) || hk.Changed || hk.Shown != srv.HostKey {
		t.Fatalf("unknown host key: %v", err)
	}
	// known_hosts
	srv.KnownHosts(kh)
	st2, err := Open(ctx, loc, &Credentials{SSHKey: srv.UserKey, KnownHosts: []string{kh}}, Options{NoAgent: true, NoDefaultKeys: true})
	if err != nil {
		t.Fatalf("known_hosts: %v", err)
	}
	st2.Close()
	// a wrong key
	other := testservers.StartSSHD(t)
	_, err = Open(ctx, loc, &Credentials{SSHKey: other.UserKey, HostKey: srv.HostKey}, Options{NoAgent: true, NoDefaultKeys: true})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
}

// An SFTP-only account (ForceCommand internal-sftp) cannot run sha256sum: Sum reads the
// file back instead.
func TestSFTPOnlyAccount(t *testing.T) {
	srv := testservers.StartSSHD(t, "ForceCommand internal-sftp")
	loc, _ := ParseLocation(srv.Location("repo"))
	st, err := Open(context.Background(), loc, &Credentials{SSHKey: srv.UserKey, HostKey: srv.HostKey}, Options{NoAgent: true, NoDefaultKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conformance(t, st)
	if !st.(*sftpStorage).noExec {
		t.Fatal("the server ran sha256sum for an SFTP-only account")
	}
}

func TestS3Storage(t *testing.T) {
	srv := testservers.StartS3(t)
	srv.MakeBucket("kits")
	loc, err := ParseLocation(srv.Location("kits", "amina/repo"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cred := &Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	st, err := Open(ctx, loc, cred, Options{})
	if err != nil {
		t.Fatal(err)
	}
	conformance(t, st)

	// the server checks the body against the signed sha256 (what lets copy skip reading
	// back): bytes that do not match it are refused, and nothing is stored
	s3 := st.(SumSaver)
	data, name := randomFile(t, 1<<20)
	h := repo.Handle{Type: repo.PackFile, Name: name}
	sum := sha256.Sum256(data)
	damaged := bytes.Clone(data)
	damaged[12345] ^= 1
	if err := s3.SaveSum(ctx, h, damaged, sum); !Transient(err) || !strings.Contains(err.Error(), "other bytes than were sent") {
		t.Fatalf("a body that does not match its sha256: %v", err)
	}
	if _, err := st.Stat(ctx, h); !repo.IsNotExist(err) {
		t.Fatalf("the damaged body was stored: %v", err)
	}
	if err := s3.SaveSum(ctx, h, data, sum); err != nil {
		t.Fatal(err)
	}
	// this server answers with the sha256 checksum it computed: no file needed an MD5
	if s := st.(*s3Storage); s.withMD5.Load() || s.md5s.Load() != 0 {
		t.Fatalf("MD5 computed for %d files on a server that checks sha256 checksums", s.md5s.Load())
	}

	_, err = Open(ctx, loc, &Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: "wrong" + srv.SecretKey}, Options{})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong secret: %v", err)
	}
	loc2, _ := ParseLocation(srv.Location("nosuchbucket", ""))
	_, err = Open(ctx, loc2, cred, Options{})
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("missing bucket: %v", err)
	}
}

func TestRESTStorage(t *testing.T) {
	srv := testservers.StartREST(t, testservers.RESTOptions{Auth: true})
	loc, err := ParseLocation(srv.Location("amina", false))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Open(ctx, loc, &Credentials{Username: srv.User, Password: srv.Password}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	conformance(t, st)
	_, err = Open(ctx, loc, &Credentials{Username: srv.User, Password: "wrong"}, Options{})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestRESTAppendOnly(t *testing.T) {
	srv := testservers.StartREST(t, testservers.RESTOptions{AppendOnly: true})
	loc, _ := ParseLocation(srv.Location("r", false))
	ctx := context.Background()
	st, err := Open(ctx, loc, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx); err != nil {
		t.Fatal(err)
	}
	data, name := randomFile(t, 1000)
	h := repo.Handle{Type: repo.SnapshotFile, Name: name}
	if err := st.Save(ctx, h, data); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, h); !errors.Is(err, ErrRefused) {
		t.Fatalf("append-only remove: %v", err)
	}
	if _, err := st.Stat(ctx, h); err != nil {
		t.Fatalf("the file went: %v", err)
	}
}

// The server hashes what it stored, in long-lived shells: a file damaged on the server's
// disk is seen as damaged, in a folder whose name needs quoting, from many goroutines.
func TestSFTPServerSum(t *testing.T) {
	srv := testservers.StartSSHD(t)
	dir := "it's a -repo"
	loc, err := ParseLocation(srv.Location(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Open(ctx, loc, &Credentials{SSHKey: srv.UserKey, HostKey: srv.HostKey}, Options{NoAgent: true, NoDefaultKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Create(ctx); err != nil {
		t.Fatal(err)
	}
	var hs []repo.Handle
	for i := 0; i < 6; i++ {
		data, name := randomFile(t, 100000+i)
		h := repo.Handle{Type: repo.PackFile, Name: name}
		if err := st.Save(ctx, h, data); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	errs := make(chan error, 3*len(hs))
	for r := 0; r < 3; r++ {
		for _, h := range hs {
			go func() {
				sum, _, err := st.Sum(ctx, h)
				if err == nil && hex.EncodeToString(sum[:]) != h.Name {
					err = fmt.Errorf("%s: sum %x", h.Name, sum)
				}
				errs <- err
			}()
		}
	}
	for range 3 * len(hs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := st.(*sftpStorage)
	if n := s.serverSums.Load(); s.noExec || n != int64(3*len(hs)) || len(s.shells.all) == 0 || len(s.shells.all) > maxSumShells {
		t.Fatalf("the server did not hash the files in its shells: noExec %v, %d of %d hashed, %d shells", s.noExec, n, 3*len(hs), len(s.shells.all))
	}
	// damage one on the server's disk
	h := hs[0]
	p := filepath.Join(srv.Root, dir, "data", h.Name[:2], h.Name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[500] ^= 0x40
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sum, size, err := st.Sum(ctx, h)
	if err != nil || sum != sha256.Sum256(b) || size != int64(len(b)) || s.serverSums.Load() != int64(3*len(hs)+1) {
		t.Fatalf("Sum of a damaged file: %x %d %v", sum, size, err)
	}
	if _, _, err := st.Sum(ctx, repo.Handle{Type: repo.PackFile, Name: hs[1].Name[:10]}); !repo.IsNotExist(err) {
		t.Fatalf("Sum of a missing file: %v", err)
	}
}

// The hashing script gives the same answers with openssl alone, with sha256sum alone, and
// under bash and the system's sh.
func TestSumScript(t *testing.T) {
	data, name := randomFile(t, 70000)
	dir := t.TempDir()
	f := filepath.Join(dir, "-x y")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"openssl", "sha256sum"} {
		bin := t.TempDir()
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v (scripts/install-test-deps.sh)", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
		for _, sh := range []string{"/bin/sh", "/bin/bash"} {
			cmd := exec.Command(sh, "-c", "exec /bin/sh -c '"+sumScript+"'")
			cmd.Env = []string{"PATH=" + bin}
			cmd.Stdin = strings.NewReader(f + "\n" + filepath.Join(dir, "missing") + "\n")
			out, err := cmd.Output()
			want := "tk-ready\ntk " + name + "\ntk \n"
			if err != nil || string(out) != want {
				t.Fatalf("%s with %s: %q %v, want %q", sh, tool, out, err, want)
			}
		}
	}
}

// A server that does not answer with the sha256 checksum (older S3 servers; here the real
// one behind a proxy that drops the answer) gets MD5s and has its ETags compared; one that
// answers with another checksum than was sent has stored other bytes: the save fails, to
// be sent again.
func TestS3Checksums(t *testing.T) {
	srv := testservers.StartS3(t)
	srv.MakeBucket("kits")
	target, err := url.Parse("http://" + srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var mode atomic.Value
	mode.Store("drop")
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method != http.MethodPut {
			return nil
		}
		switch mode.Load() {
		case "drop":
			r.Header.Del("x-amz-checksum-sha256")
		case "etag":
			r.Header.Del("x-amz-checksum-sha256")
			r.Header.Set("ETag", `"00000000000000000000000000000000"`)
		case "other":
			r.Header.Set("x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(make([]byte, 32)))
		}
		return nil
	}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	loc, err := ParseLocation("s3:" + ps.URL + "/kits/amina")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Open(ctx, loc, &Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*s3Storage)
	save := func() error {
		data, name := randomFile(t, 300000)
		return st.Save(ctx, repo.Handle{Type: repo.PackFile, Name: name}, data)
	}
	for i := 0; i < 3; i++ {
		if err := save(); err != nil {
			t.Fatal(err)
		}
	}
	if !s.withMD5.Load() || s.md5s.Load() != 3 {
		t.Fatalf("no checksum answered: withMD5 %v, %d MD5s for 3 files", s.withMD5.Load(), s.md5s.Load())
	}
	mode.Store("etag")
	if err := save(); !Transient(err) || !strings.Contains(err.Error(), "stored other bytes (MD5") {
		t.Fatalf("an ETag that is not the MD5: %v", err)
	}
	s.withMD5.Store(false)
	mode.Store("other")
	if err := save(); !Transient(err) || !strings.Contains(err.Error(), "stored other bytes (sha256") {
		t.Fatalf("another sha256 checksum: %v", err)
	}
}
