//go:build linux

package tpm

import (
	"errors"
	"fmt"
	"os"

	"github.com/google/go-tpm/tpm2/transport"
)

// DefaultDevice is the TPM travelkit uses for "auto" on Linux: the kernel's resource
// manager, which flushes what a crashed process left loaded.
const DefaultDevice = "/dev/tpmrm0"

func openDefault() (transport.TPM, error) {
	t, err := openDevice(DefaultDevice)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: this machine has no TPM2, or it is disabled in the firmware settings, or the kernel has no driver for it", DefaultDevice)
	}
	return t, err
}

func openDevice(path string) (transport.TPM, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeDevice == 0 {
		return nil, fmt.Errorf("%s is not a device", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%w (run as root, or join the group that owns %s, usually tss)", err, path)
		}
		return nil, err
	}
	return transport.FromReadWriteCloser(f), nil
}
