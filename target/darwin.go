//go:build darwin

package target

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const exampleDisk = "/dev/disk4"

// autoUnmount: macOS mounts a stick's FAT partition by itself; Open unmounts the whole
// disk (diskutil unmountDisk) once the plan was accepted, before every write.
const autoUnmount = true

func isDevicePath(p string) bool { return strings.HasPrefix(p, "/dev/") }

func unmountHint(m string) string { return "diskutil unmount " + m }

// realMac is macOS itself.
type realMac struct{}

func (realMac) Diskutil(args ...string) ([]byte, error) {
	cmd := exec.Command("diskutil", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (realMac) Executable() string {
	p, _ := os.Executable()
	return p
}

var mac = macDisks{sys: realMac{}}

func inspectDisk(path string) (*Info, error) { return mac.inspect(path) }

func inspectImageUse(info *Info) error { return nil }

func openDisk(info *Info, opt Options) (rawDevice, error) {
	return mac.open(info, opt, func(path string, flag int) (rawDevice, error) {
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			return nil, err
		}
		return newAligned(f, 4096), nil
	})
}

// ListDisks returns the external physical disks (diskutil list external physical).
func ListDisks() ([]string, error) { return mac.list() }
