package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// BootOptions configure one VM run.
type BootOptions struct {
	// Kernel is the kernel image; empty means [FindKernel]'s.
	Kernel string
	// Initrd is the initramfs file (see [Initramfs.WriteFile]).
	Initrd string
	// Disk is a raw disk image attached as a virtio disk (/dev/vda); it is
	// written in place.
	Disk string
	// MemoryMiB is the VM's memory (default 512).
	MemoryMiB int
	// Timeout bounds the whole run (default 120 s); qemu is killed after it.
	Timeout time.Duration
	// Append is added to the kernel command line "console=ttyS0 panic=-1 quiet
	// no_timer_check" (no_timer_check: on a loaded host, TCG is too slow for the
	// kernel's IO-APIC timer check, which then panics at boot).
	// Never put secrets here: pass them as initramfs files.
	Append string
	// Console, when set, receives the console output as it arrives.
	Console io.Writer
}

// Result is what a VM run printed.
type Result struct {
	Output   string        // the serial console (kernel and init output)
	Duration time.Duration // from starting qemu to its exit
}

// Boot runs qemu-system-x86_64 (TCG: no KVM needed) with the kernel, the
// initramfs and the disk, waits until the VM powers off (-no-reboot turns a
// reboot or a panic into an exit too) and returns the console output. An error
// means qemu failed or the timeout passed; the output so far is returned then too.
func Boot(ctx context.Context, o BootOptions) (Result, error) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return Result{}, fmt.Errorf("qemu-system-x86_64 not installed (Debian package qemu-system-x86): %w", err)
	}
	if o.Kernel == "" {
		k, err := FindKernel()
		if err != nil {
			return Result{}, err
		}
		o.Kernel = k.Image
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = 512
	}
	if o.Timeout == 0 {
		o.Timeout = 120 * time.Second
	}
	cmdline := "console=ttyS0 panic=-1 quiet no_timer_check"
	if o.Append != "" {
		cmdline += " " + o.Append
	}
	args := []string{
		"-accel", "tcg",
		"-cpu", "max", // emulates AES-NI, so dm-crypt uses aesni-intel if loaded
		"-m", fmt.Sprint(o.MemoryMiB),
		"-nodefaults", "-no-user-config",
		"-nographic", "-monitor", "none", "-serial", "stdio",
		"-no-reboot",
		"-kernel", o.Kernel,
		"-initrd", o.Initrd,
		"-append", cmdline,
	}
	if o.Disk != "" {
		args = append(args, "-drive", "file="+o.Disk+",format=raw,if=virtio")
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.WaitDelay = 5 * time.Second
	dieWithParent(cmd)
	var out lockedBuffer
	var w io.Writer = &out
	if o.Console != nil {
		w = io.MultiWriter(&out, o.Console)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	start := time.Now()
	err = cmd.Run()
	res := Result{Output: strings.ReplaceAll(out.String(), "\r\n", "\n"), Duration: time.Since(start)}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return res, fmt.Errorf("qemu: the VM did not power off within %v (killed)", o.Timeout)
	}
	if err != nil {
		return res, fmt.Errorf("qemu: %w", err)
	}
	return res, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Markers are the marker lines of a console output.
type Markers struct {
	// Values holds every name=value of the VMTEST-OK lines (a later line wins).
	Values map[string]string
	// OK lists the VMTEST-OK lines (without the marker), in order.
	OK []string
	// Failures lists the VMTEST-FAIL lines (without the marker).
	Failures []string
	// Ended is true when the script returned (VMTEST-END), with its exit status RC.
	Ended bool
	RC    string
}

// ParseMarkers collects the VMTEST-OK, VMTEST-FAIL and VMTEST-END lines of out.
// A value may not contain spaces; init scripts print one token per value.
func ParseMarkers(out string) Markers {
	m := Markers{Values: map[string]string{}}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r ")
		// The kernel may print on the same line; find the marker anywhere.
		switch {
		case strings.Contains(line, markerOK+" "):
			rest := line[strings.Index(line, markerOK+" ")+len(markerOK)+1:]
			m.OK = append(m.OK, rest)
			for _, f := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(f, "="); ok {
					m.Values[k] = v
				}
			}
		case strings.Contains(line, markerFail):
			rest := line[strings.Index(line, markerFail)+len(markerFail):]
			m.Failures = append(m.Failures, strings.TrimSpace(rest))
		case strings.Contains(line, markerEnd+" "):
			m.Ended = true
			for _, f := range strings.Fields(line[strings.Index(line, markerEnd+" "):]) {
				if v, ok := strings.CutPrefix(f, "rc="); ok {
					m.RC = v
				}
			}
		}
	}
	return m
}
