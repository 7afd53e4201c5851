package tpm

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
)

// FuzzReadResponse: a TPM reached over a socket (swtpm, a simulator) sends a header whose
// size field says how much follows; a hostile or broken one must not make readResponse
// allocate what it claims (4 GiB for 0xffffffff).
func FuzzReadResponse(f *testing.F) {
	ok := binary.BigEndian.AppendUint32([]byte{0x80, 0x01}, 14)
	ok = append(ok, 0, 0, 0, 0, 1, 2, 3, 4)
	f.Add(ok)
	f.Add([]byte{0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{0x80, 0x01, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rsp, err := readResponse(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 2*maxResponse {
			t.Fatalf("%d bytes allocated for a %d-byte response", a, len(data))
		}
		if err != nil {
			return
		}
		if n := binary.BigEndian.Uint32(data[2:6]); int(n) != len(rsp) || n > maxResponse || !bytes.Equal(rsp, data[:n]) {
			t.Fatalf("response of %d bytes read for a header of %d", len(rsp), n)
		}
	})
}
