//go:build !linux && !darwin && !windows

package target

import "errors"

const exampleDisk = "/dev/..."

const autoUnmount = false

func isDevicePath(p string) bool { return false }

func unmountHint(m string) string { return "umount " + m }

func inspectDisk(path string) (*Info, error) {
	return nil, errors.New(path + ": disks are supported on Linux, macOS and Windows; use an image file here")
}

func inspectImageUse(info *Info) error { return nil }

func openDisk(info *Info, opt Options) (rawDevice, error) {
	return nil, errors.New("disks are not supported on this OS")
}

// ListDisks finds no disks on this OS.
func ListDisks() ([]string, error) { return nil, nil }
