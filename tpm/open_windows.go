//go:build windows

package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/windowstpm"
)

// DefaultDevice names the TPM travelkit uses for "auto" on Windows.
const DefaultDevice = "TBS"

func openDefault() (transport.TPM, error) {
	t, err := windowstpm.Open()
	if err != nil {
		return nil, fmt.Errorf("Windows TPM Base Services: %w (is a TPM 2.0 present and enabled?)", err)
	}
	return t, nil
}

func openDevice(path string) (transport.TPM, error) {
	return nil, fmt.Errorf("device paths like %s do not exist on Windows: use --tpm auto (TBS), unix:PATH or tcp:HOST:PORT", path)
}
