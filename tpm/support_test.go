package tpm

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// hidingTPM makes a real TPM look as if it lacked ECC and its sha256 PCR bank, by editing
// GetCapability responses.
type hidingTPM struct {
	tr                  transport.TPM
	hideECC, hideSHA256 bool
}

func (h *hidingTPM) Send(cmd []byte) ([]byte, error) {
	rsp, err := h.tr.Send(cmd)
	if err != nil || len(cmd) < 22 || binary.BigEndian.Uint32(cmd[6:10]) != uint32(tpm2.TPMCCGetCapability) ||
		len(rsp) < 19 || binary.BigEndian.Uint32(rsp[6:10]) != 0 {
		return rsp, err
	}
	capability := binary.BigEndian.Uint32(rsp[11:15])
	body := rsp[15:] // count, then entries
	n := int(binary.BigEndian.Uint32(body))
	switch {
	case capability == uint32(tpm2.TPMCapAlgs) && h.hideECC:
		// TPMS_ALG_PROPERTY: alg u16, attributes u32.
		out := []byte{}
		kept := 0
		for i := 0; i < n; i++ {
			e := body[4+6*i : 4+6*i+6]
			if binary.BigEndian.Uint16(e) == uint16(tpm2.TPMAlgECC) {
				continue
			}
			out = append(out, e...)
			kept++
		}
		res := append([]byte(nil), rsp[:15]...)
		res = binary.BigEndian.AppendUint32(res, uint32(kept))
		res = append(res, out...)
		binary.BigEndian.PutUint32(res[2:6], uint32(len(res)))
		return res, nil
	case capability == uint32(tpm2.TPMCapPCRs) && h.hideSHA256:
		// TPMS_PCR_SELECTION: hash u16, sizeofSelect u8, select bytes: clear sha256's.
		off := 4
		for i := 0; i < n && off+3 <= len(body); i++ {
			alg := binary.BigEndian.Uint16(body[off:])
			size := int(body[off+2])
			if alg == uint16(tpm2.TPMAlgSHA256) {
				for j := 0; j < size; j++ {
					body[off+3+j] = 0
				}
			}
			off += 3 + size
		}
	}
	return rsp, nil
}

func TestMissingFeatures(t *testing.T) {
	sw := startSWTPM(t)
	for _, c := range []struct {
		ecc, sha bool
		want     []string
	}{
		{true, false, []string{"algorithm ECC"}},
		{false, true, []string{"sha256 PCR bank"}},
		{true, true, []string{"algorithm ECC", "sha256 PCR bank"}},
	} {
		tp := New(&hidingTPM{tr: &streamTPM{network: "unix", addr: sw.sock}, hideECC: c.ecc, hideSHA256: c.sha})
		_, err := tp.Seal(SealOptions{})
		var mf *MissingFeatureError
		if !errors.As(err, &mf) {
			t.Fatalf("%+v: got %v, want *MissingFeatureError", c, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%+v: %q does not name %q", c, err, w)
			}
		}
		t.Logf("%v", err)
	}
}
