package vmtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// OVMF firmware files (Debian package ovmf).
const (
	ovmfCodeSecure = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
	ovmfVarsMS     = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" // Microsoft's keys enrolled: Secure Boot on
	ovmfCode       = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars       = "/usr/share/OVMF/OVMF_VARS_4M.fd" // no keys: Secure Boot off
)

// MachineOptions configure a VM that boots through UEFI firmware (or, with Kernel set,
// directly), with its serial console on a pipe so that a test can type into the menu.
type MachineOptions struct {
	// SecureBoot: OVMF with Secure Boot enforced and Microsoft's keys enrolled; else OVMF
	// without keys.
	SecureBoot bool
	// Kit is attached as a USB stick (qemu-xhci + usb-storage), as people plug kits in.
	Kit string
	// Disks are the computer's own disks, attached to the SATA controller (AHCI).
	Disks []string
	// Sticks are more USB sticks.
	Sticks []string
	// Kernel and Initrd boot directly, without firmware; Append is the command line.
	Kernel, Initrd, Append string
	MemoryMiB              int
	// Console, when set, receives the console output as it arrives.
	Console io.Writer
	// Dir holds the firmware's variable store copy.
	Dir string
}

// Machine is a running VM.
type Machine struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   lockedBuffer
	mark  int
	done  chan struct{}
	err   error
	start time.Time
	qmp   string // QMP socket
}

// StartMachine starts qemu (TCG). Stop it with Wait or Kill.
func StartMachine(o MachineOptions) (*Machine, error) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, fmt.Errorf("qemu-system-x86_64 not installed (Debian package qemu-system-x86): %w", err)
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = 1024
	}
	args := []string{"-accel", "tcg", "-cpu", "max", "-m", fmt.Sprint(o.MemoryMiB),
		"-nodefaults", "-no-user-config", "-display", "none", "-vga", "std",
		"-serial", "stdio", "-monitor", "none", "-no-reboot"}
	if o.Kernel != "" {
		args = append(args, "-machine", "q35", "-kernel", o.Kernel, "-initrd", o.Initrd, "-append", o.Append)
	} else {
		code, vars := ovmfCode, ovmfVars
		machine := "q35"
		if o.SecureBoot {
			code, vars, machine = ovmfCodeSecure, ovmfVarsMS, "q35,smm=on"
			args = append(args, "-global", "driver=cfi.pflash01,property=secure,value=on")
		}
		for _, f := range []string{code, vars} {
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("%s missing (Debian package ovmf; see scripts/install-test-deps.sh): %w", f, err)
			}
		}
		varsCopy := filepath.Join(o.Dir, "OVMF_VARS.fd")
		b, err := os.ReadFile(vars)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(varsCopy, b, 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-machine", machine,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+code,
			"-drive", "if=pflash,format=raw,unit=1,file="+varsCopy)
	}
	if o.Kit != "" || len(o.Sticks) > 0 {
		args = append(args, "-device", "qemu-xhci,id=xhci")
	}
	for i, d := range append(nonEmpty(o.Kit), o.Sticks...) {
		id := fmt.Sprintf("usb%d", i)
		args = append(args, "-drive", "if=none,format=raw,id="+id+",file="+d,
			"-device", "usb-storage,bus=xhci.0,removable=on,drive="+id)
	}
	for i, d := range o.Disks {
		id := fmt.Sprintf("sata%d", i)
		args = append(args, "-drive", "if=none,format=raw,id="+id+",file="+d,
			"-device", fmt.Sprintf("ide-hd,drive=%s,bus=ide.%d", id, i))
	}
	m := &Machine{done: make(chan struct{}), start: time.Now()}
	if o.Dir != "" {
		// QMP on a socket, for screendumps of the emulated screen.
		m.qmp = filepath.Join(o.Dir, "qmp.sock")
		args = append(args, "-qmp", "unix:"+m.qmp+",server=on,wait=off")
	}
	m.cmd = exec.Command(qemu, args...)
	dieWithParent(m.cmd)
	var w io.Writer = &m.out
	if o.Console != nil {
		w = io.MultiWriter(&m.out, o.Console)
	}
	m.cmd.Stdout, m.cmd.Stderr = w, w
	if m.in, err = m.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		m.err = m.cmd.Wait()
		close(m.done)
	}()
	return m, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// Output is everything the console printed, with CR LF as LF.
func (m *Machine) Output() string { return strings.ReplaceAll(m.out.String(), "\r\n", "\n") }

// Seen is the console output up to the end of the last Expect's match, CR LF as LF.
func (m *Machine) Seen() string {
	return strings.ReplaceAll(m.out.String()[:m.mark], "\r\n", "\n")
}

// Elapsed is the time since qemu started.
func (m *Machine) Elapsed() time.Duration { return time.Since(m.start) }

// Expect waits until text appears in the console output after the previous Expect's
// match, and returns the output up to and including it. It fails when the VM exits or
// the timeout passes.
func (m *Machine) Expect(text string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		out := m.out.String()
		if i := strings.Index(out[m.mark:], text); i >= 0 {
			seen := out[m.mark : m.mark+i+len(text)]
			m.mark += i + len(text)
			return seen, nil
		}
		select {
		case <-m.done:
			out = m.out.String()
			if i := strings.Index(out[m.mark:], text); i >= 0 {
				continue
			}
			return "", fmt.Errorf("the VM exited (%v) before printing %q", m.err, text)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no %q on the console within %v", text, timeout)
		}
	}
}

// Send types keys on the serial console.
func (m *Machine) Send(keys string) error {
	_, err := io.WriteString(m.in, keys)
	return err
}

// Wait waits for the VM to power off.
func (m *Machine) Wait(timeout time.Duration) error {
	select {
	case <-m.done:
		return m.err
	case <-time.After(timeout):
		m.Kill()
		return fmt.Errorf("the VM did not power off within %v (killed)", timeout)
	}
}

// Kill stops the VM.
func (m *Machine) Kill() {
	select {
	case <-m.done:
		return
	default:
	}
	m.cmd.Process.Kill()
	<-m.done
}

// Screendump saves the emulated screen as a PNG file (QMP's screendump).
func (m *Machine) Screendump(file string) error {
	if m.qmp == "" {
		return errors.New("screendump: the machine has no QMP socket (MachineOptions.Dir)")
	}
	c, err := net.Dial("unix", m.qmp)
	if err != nil {
		return fmt.Errorf("screendump: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	dec := json.NewDecoder(c)
	var greeting map[string]any
	if err := dec.Decode(&greeting); err != nil {
		return fmt.Errorf("screendump: QMP greeting: %w", err)
	}
	for _, cmd := range []any{
		map[string]any{"execute": "qmp_capabilities"},
		map[string]any{"execute": "screendump", "arguments": map[string]any{"filename": file, "format": "png"}},
	} {
		b, _ := json.Marshal(cmd)
		if _, err := c.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("screendump: %w", err)
		}
		for { // skip events until the command's answer
			var r struct {
				Return json.RawMessage        `json:"return"`
				Error  *struct{ Desc string } `json:"error"`
			}
			if err := dec.Decode(&r); err != nil {
				return fmt.Errorf("screendump: %w", err)
			}
			if r.Error != nil {
				return fmt.Errorf("screendump: %s", r.Error.Desc)
			}
			if r.Return != nil {
				break
			}
		}
	}
	return nil
}

// Keys for Send.
const (
	KeyEnter = "\r"
	KeyDown  = "\x1b[B"
	KeyUp    = "\x1b[A"
	KeyEsc   = "\x1b"
)

var errNoBundle = errors.New("no boot bundle")

// BootBundle returns a boot bundle folder for the tests: $TRAVELKIT_BOOTENV, else one
// gathered once by scripts/bootenv.sh (apt-get download of Debian's signed packages)
// into /var/cache/travelkit-test/bootenv-v2, outside the clone. The folder's name changes
// with what the script puts in a bundle (v2: the screen's fonts), so that a machine with
// an older bundle gathers a new one; the downloaded packages are kept in bootenv-debs.
func BootBundle(ctx context.Context) (string, error) {
	if d := os.Getenv("TRAVELKIT_BOOTENV"); d != "" {
		return d, nil
	}
	const cache = "/var/cache/travelkit-test"
	dir := cache + "/bootenv-v2"
	if _, err := os.Stat(filepath.Join(dir, "boot", "bundle.json")); err == nil {
		return dir, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "bootenv.sh")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	// One gatherer at a time (several test binaries may ask at once).
	cmd := exec.CommandContext(ctx, "flock", cache+"/.bootenv.lock", "sh", "-c",
		`[ -f "$1/boot/bundle.json" ] || BOOTENV_DEBS="$3" "$2" "$1.tmp" && { [ -f "$1/boot/bundle.json" ] || { rm -rf "$1" && mv "$1.tmp" "$1"; }; }`, "sh", dir, script, cache+"/bootenv-debs")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: scripts/bootenv.sh: %v\n%s", errNoBundle, err, out)
	}
	return dir, nil
}

// moduleRoot is the folder of go.mod above the working directory (a test's package).
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("no go.mod above the working directory")
		}
		d = up
	}
}
