package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"travelkit/tpm"
)

// cmdSWTPM starts a software TPM (swtpm, Debian's) for the rest of the script, listening
// on $WORK/tpm.sock; the script reaches it with --tpm unix:$WORK/tpm.sock.
func cmdSWTPM(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: swtpm")
	}
	dir := ts.MkAbs("swtpm-state")
	ts.Check(os.MkdirAll(dir, 0o700))
	sock := ts.MkAbs("tpm.sock")
	cmd := exec.Command("swtpm", "socket", "--tpm2", "--flags", "not-need-init,startup-clear",
		"--server", "type=unixio,path="+sock, "--ctrl", "type=unixio,path="+sock+".ctrl",
		"--tpmstate", "dir="+dir)
	log, err := os.Create(filepath.Join(dir, "log"))
	ts.Check(err)
	cmd.Stdout, cmd.Stderr = log, log
	ts.Check(cmd.Start())
	ts.Defer(func() { cmd.Process.Kill(); cmd.Wait(); log.Close() })
	for deadline := time.Now().Add(15 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			ts.Fatalf("swtpm did not start: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdPCRExtend extends a PCR of the script's swtpm, as a firmware update would change it.
func cmdPCRExtend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pcrextend PCR")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	t, err := tpm.Open("unix:" + ts.MkAbs("tpm.sock"))
	ts.Check(err)
	defer t.Close()
	ts.Check(t.ExtendPCR(n, []byte("firmware update")))
}
