package tpm

import (
	"path/filepath"
	"strconv"
	"testing"

	"travelkit/internal/testservers"
)

// swtpm's raw TCP data port, reached with "tcp:HOST:PORT". The port comes as the test
// servers' do (internal/testservers): another test run on the machine can take a port
// between the kernel handing it out and swtpm's bind; the test must then talk to its own
// swtpm, not the other run's. The control channel is a unix socket (no second port).
func TestSWTPMOverTCP(t *testing.T) {
	bin := requireTool(t, "swtpm", "swtpm")
	dir, state := swtpmState(t)
	srv := testservers.StartCommand(t, "swtpm", func(port int) []string {
		return []string{bin, "socket", "--tpm2", "--flags", "not-need-init,startup-clear",
			"--server", "type=tcp,port=" + strconv.Itoa(port) + ",bindaddr=127.0.0.1",
			"--ctrl", "type=unixio,path=" + filepath.Join(dir, "ctrl"),
			"--tpmstate", "dir=" + state}
	})
	tp, err := Open("tcp:" + srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	sealAndUnseal(t, tp, SealOptions{})
}
