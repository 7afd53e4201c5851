package vmtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDieWithParent: a process started with dieWithParent (as qemu is) ends when the test
// process that started it is killed, so a test binary killed by its timeout leaves no VM.
// A re-executed test binary starts `sleep` and is SIGKILLed; the sleep must be gone.
func TestDieWithParent(t *testing.T) {
	if os.Getenv("VMTEST_DIE_WITH_PARENT") == "child" {
		cmd := exec.Command("sleep", "3600")
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		select {} // until killed
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(self, "-test.run=^TestDieWithParent$")
	child.Env = append(os.Environ(), "VMTEST_DIE_WITH_PARENT=child")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		child.Process.Kill()
		t.Fatalf("child: %q %v %v", line, err, perr)
	}
	if !alive(pid) {
		t.Fatal("the sleep is not running")
	}
	child.Process.Kill()
	child.Wait()
	// The kernel sends the signal as the parent exits; wait for it to land (no timing is
	// asserted: only that it ends at all, within a generous bound).
	for deadline := time.Now().Add(time.Minute); alive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscallKill(pid)
			t.Fatal("the process outlived the test process that started it")
		}
	}
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func syscallKill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
