//go:build tpmsim && cgo

package tpm

import (
	"testing"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2/transport"
)

// The same scenarios against the go-tpm-tools simulator (the TCG reference TPM, built
// with cgo). Run with: go test -tags tpmsim ./tpm/
func openSimulator(t *testing.T) *TPM {
	t.Helper()
	sim, err := simulator.Get()
	if err != nil {
		t.Fatal(err)
	}
	tp := New(transport.FromReadWriteCloser(sim))
	t.Cleanup(func() { tp.Close() })
	return tp
}

func TestSimulator(t *testing.T) { runScenarios(t, openSimulator) }
