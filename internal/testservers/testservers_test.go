//go:build linux

package testservers

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// impostor listens on a loopback port and answers every HTTP request with 418: another
// test run's server that took the port this run's server was given.
func impostor(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	return l.Addr().(*net.TCPAddr).Port
}

// takenFirst makes the next server's first port one that another process already
// listens on (as when a second test run took it between the kernel handing it out and
// the server's bind); the ports after it come from the kernel.
func takenFirst(t *testing.T, port int) {
	first := true
	pickPort = func(tb TB) int {
		if first {
			first = false
			return port
		}
		return freePort(tb)
	}
	t.Cleanup(func() { pickPort = freePort })
}

// A server whose port was taken by another process starts on another port, and the
// test talks to the server it started, not to the other process.
func TestStartOnTakenPort(t *testing.T) {
	taken := impostor(t)
	takenFirst(t, taken)
	s := StartREST(t, RESTOptions{})
	if s.Port == taken {
		t.Fatalf("the REST server's address is %s, which another process holds", s.Addr)
	}
	resp, err := http.Get("http://" + s.Addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusTeapot {
		t.Fatalf("http://%s/ answered by the other process, not rclone", s.Addr)
	}
	log := readLog(t, s.Server)
	if !strings.Contains(log, fmt.Sprintf("port %d failed, trying port %d", taken, s.Port)) {
		t.Errorf("the server's log does not say the port moved:\n%s", log)
	}

	// sshd too (its port is in its configuration file)
	taken = impostor(t)
	takenFirst(t, taken)
	d := StartSSHD(t)
	if d.Port == taken {
		t.Fatalf("sshd's address is %s, which another process holds", d.Addr)
	}
	c, err := net.Dial("tcp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	banner := make([]byte, 8)
	if _, err := io.ReadFull(c, banner); err != nil || !strings.HasPrefix(string(banner), "SSH-2.0-") {
		t.Fatalf("%s: no SSH banner (%q, %v)", d.Addr, banner, err)
	}
}

// fatalTB records the first Fatalf and stops the caller, as testing's FailNow does.
type fatalTB struct {
	*testing.T
	msg string
}

type stopped struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (f *fatalTB) run(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopped); !ok {
				panic(r)
			}
		}
	}()
	fn()
}

// Once a server has listened, its port stays (clients know it): started again after a
// kill on a port another process took meanwhile, it fails and names that process.
func TestRestartOnTakenPort(t *testing.T) {
	s := StartREST(t, RESTOptions{})
	s.Kill()
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Skipf("the port was taken before this test could take it: %v", err)
	}
	defer l.Close()
	ft := &fatalTB{T: t}
	s.t = ft
	ft.run(s.Start)
	if !strings.Contains(ft.msg, fmt.Sprintf("port %d is taken by another process (pid ", s.Port)) &&
		!strings.Contains(ft.msg, "exited at start") {
		t.Fatalf("start on a taken port: %q", ft.msg)
	}
	if s.cmd != nil {
		t.Fatalf("the server runs after a failed start")
	}
	t.Log(ft.msg)
}

func readLog(t *testing.T, s *Server) string {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
