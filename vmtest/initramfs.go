package vmtest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"travelkit/boot"
)

// Initramfs describes an initramfs for a test VM. Busybox (from the host's PATH;
// Debian's busybox-static) is always included, at /bin/busybox, and provides the
// shell and the usual commands.
type Initramfs struct {
	// KernelVersion names /lib/modules/<version>; empty means the version of
	// [FindKernel].
	KernelVersion string
	// Binaries are host executables, copied to the same paths together with the
	// shared libraries ldd lists for them.
	Binaries []string
	// Modules are kernel module names as modprobe knows them. Each is resolved
	// with `modprobe --show-depends` against the kernel's module tree; the init
	// preamble loads them, dependencies first (built-in ones are skipped).
	Modules []string
	// Files are extra files, by absolute path in the VM, created with mode 0600
	// (secrets such as key files go here, never on the kernel command line).
	Files map[string][]byte
	// Script is the test, run by busybox sh after the preamble has mounted /proc,
	// /sys and /dev and loaded the modules. It can call ok NAME=VALUE... to print
	// a VMTEST-OK line, fail WHAT to print VMTEST-FAIL and stop, and step NAME
	// to print a VMTEST-STEP line with the guest's uptime (for timing). When it
	// returns, the preamble prints "VMTEST-END rc=N" and powers the VM off
	// (sync first, unmount nothing). A script can also power off by itself.
	Script string
}

// Markers printed by the init preamble.
const (
	markerOK   = "VMTEST-OK"
	markerFail = "VMTEST-FAIL"
	markerEnd  = "VMTEST-END"
)

const initPreamble = `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /run /tmp /mnt
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run/cryptsetup /run/lock
echo VMTEST-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)
while read -r m; do
	insmod "$m" || echo "VMTEST-FAIL insmod $m"
done < /etc/vmtest/modules
echo VMTEST-MODULES uptime=$(cut -d' ' -f1 /proc/uptime)
sh /etc/vmtest/script
echo "VMTEST-END rc=$? uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
`

const scriptPreamble = `ok() { echo "VMTEST-OK $*"; }
step() { echo "VMTEST-STEP $* uptime=$(cut -d' ' -f1 /proc/uptime)"; }
fail() { echo "VMTEST-FAIL $*"; exit 1; }
`

// Write builds the initramfs as an uncompressed newc cpio archive (the fastest for
// the kernel to unpack under emulation) and writes it to w.
func (r *Initramfs) Write(w io.Writer) error {
	kver := r.KernelVersion
	if kver == "" {
		k, err := FindKernel()
		if err != nil {
			return err
		}
		kver = k.Version
	}
	t := boot.NewArchive()
	t.AddCharDev("/dev/console", 0o600, 5, 1)
	t.AddCharDev("/dev/null", 0o666, 1, 3)
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox not installed (Debian package busybox-static; see scripts/install-test-deps.sh): %w", err)
	}
	if err := addBinary(t, busybox, "/bin/busybox"); err != nil {
		return err
	}
	for _, b := range r.Binaries {
		p, err := exec.LookPath(b)
		if err != nil {
			return fmt.Errorf("%s not installed (see scripts/install-test-deps.sh): %w", b, err)
		}
		if err := addBinary(t, p, p); err != nil {
			return err
		}
	}
	mods, err := ResolveModules(kver, r.Modules)
	if err != nil {
		return err
	}
	var list bytes.Buffer
	for _, m := range mods {
		data, err := readModule(m)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimSuffix(m, ".xz"), ".zst")
		t.AddFile(name, 0o644, data)
		fmt.Fprintln(&list, name)
	}
	t.AddFile("/etc/vmtest/modules", 0o644, list.Bytes())
	for p, data := range r.Files {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("initramfs file %q: the path must be absolute", p)
		}
		t.AddFile(p, 0o600, data)
	}
	t.AddFile("/etc/vmtest/script", 0o755, []byte(scriptPreamble+r.Script))
	t.AddFile("/init", 0o755, []byte(initPreamble))
	return t.Write(w)
}

// WriteFile writes the initramfs to the file p.
func (r *Initramfs) WriteFile(p string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := r.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// addBinary adds the executable at host path src as dst, and the shared libraries
// (and the dynamic loader) that ldd lists for it at the paths ldd names.
func addBinary(t *boot.Archive, src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	t.AddFile(dst, 0o755, data)
	libs, err := sharedLibraries(src)
	if err != nil {
		return err
	}
	for _, lib := range libs {
		if t.Has(lib) {
			continue
		}
		data, err := os.ReadFile(lib) // follows symlinks: the real library under the soname
		if err != nil {
			return fmt.Errorf("%s needs %s: %w", src, lib, err)
		}
		t.AddFile(lib, 0o755, data)
	}
	return nil
}

var lddLine = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)`)

// sharedLibraries lists the absolute library paths ldd prints for an executable;
// none for a static one.
func sharedLibraries(p string) ([]string, error) {
	if _, err := exec.LookPath("ldd"); err != nil {
		return nil, fmt.Errorf("ldd not installed (Debian package libc-bin): %w", err)
	}
	out, err := exec.Command("ldd", p).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") || strings.Contains(string(out), "statically linked") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", p, err, out)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd %s: %s", p, strings.TrimSpace(line))
		}
		if m := lddLine.FindStringSubmatch(line); m != nil {
			libs = append(libs, m[1])
		}
	}
	return libs, nil
}

// ResolveModules returns the module files to load, in order, for the named
// modules of kernel kver: `modprobe --show-depends` lists each with its
// dependencies first; built-in modules need nothing and are left out.
func ResolveModules(kver string, names []string) ([]string, error) {
	modprobe, err := exec.LookPath("modprobe")
	if err != nil {
		for _, p := range []string{"/usr/sbin/modprobe", "/sbin/modprobe"} {
			if _, serr := os.Stat(p); serr == nil {
				modprobe, err = p, nil
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("modprobe not installed (Debian package kmod): %w", err)
		}
	}
	seen := map[string]bool{}
	var files []string
	for _, name := range names {
		out, err := exec.Command(modprobe, "--show-depends", "-S", kver, name).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("modprobe --show-depends -S %s %s: %v: %s", kver, name, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "insmod" {
				continue // "builtin NAME" or blank
			}
			if !seen[f[1]] {
				seen[f[1]] = true
				files = append(files, f[1])
			}
		}
	}
	return files, nil
}

// readModule reads a module file, decompressing .ko.xz and .ko.zst with the host's
// xz or zstd (busybox insmod wants a plain .ko).
func readModule(p string) ([]byte, error) {
	var tool string
	switch {
	case strings.HasSuffix(p, ".xz"):
		tool = "xz"
	case strings.HasSuffix(p, ".zst"):
		tool = "zstd"
	default:
		return os.ReadFile(p)
	}
	out, err := exec.Command(tool, "-dc", p).Output()
	if err != nil {
		return nil, fmt.Errorf("%s -dc %s: %w", tool, p, err)
	}
	return out, nil
}

// Kernel is an installed Linux kernel.
type Kernel struct {
	Version string // as in /lib/modules/<Version>
	Image   string // /boot/vmlinuz-<Version>
}

// FindKernel returns the newest installed kernel that has both /boot/vmlinuz-V and
// /lib/modules/V (Debian's linux-image-amd64).
func FindKernel() (Kernel, error) {
	imgs, _ := filepath.Glob("/boot/vmlinuz-*")
	var found []Kernel
	for _, img := range imgs {
		v := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		if st, err := os.Stat(filepath.Join("/lib/modules", v, "modules.dep")); err == nil && st.Mode().IsRegular() {
			found = append(found, Kernel{Version: v, Image: img})
		}
	}
	if len(found) == 0 {
		return Kernel{}, fmt.Errorf("no kernel with modules installed (/boot/vmlinuz-* and /lib/modules/*/modules.dep; Debian package linux-image-amd64)")
	}
	sort.Slice(found, func(i, j int) bool { return versionLess(found[i].Version, found[j].Version) })
	return found[len(found)-1], nil
}

// versionLess compares kernel versions such as 6.1.0-56-amd64 number by number.
func versionLess(a, b string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		var na, nb int
		_, ea := fmt.Sscan(pa[i], &na)
		_, eb := fmt.Sscan(pb[i], &nb)
		if ea == nil && eb == nil {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	return len(pa) < len(pb)
}
