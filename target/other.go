//go:build !linux && !darwin && !windows

package target

const exampleDisk = "/dev/..."

const autoUnmount = false

func isDevicePath(p string) bool { return false }

func unmountHint(m string) string { return "umount " + m }

func inspectDisk(path string) (*Info, error) {
	return nil, errorf(nil, "target.error.disks_elsewhere", path)
}

func inspectImageUse(info *Info) error { return nil }

func openDisk(info *Info, opt Options) (rawDevice, error) {
	return nil, errorf(nil, "target.error.no_disks")
}

// ListDisks finds no disks on this OS.
func ListDisks() ([]string, error) { return nil, nil }
