//go:build !linux && !windows

package tpm

import (
	"fmt"
	"os"
	"runtime"

	"github.com/google/go-tpm/tpm2/transport"
)

// DefaultDevice is empty: this platform has no system TPM2 interface travelkit can use.
const DefaultDevice = ""

func openDefault() (transport.TPM, error) {
	return nil, fmt.Errorf("%s has no TPM2 that travelkit can use; a software TPM is reachable with unix:PATH or tcp:HOST:PORT", runtime.GOOS)
}

func openDevice(path string) (transport.TPM, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return transport.FromReadWriteCloser(f), nil
}
