package tpm

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/google/go-tpm/tpm2"
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

// FuzzSealedBlob: a token's tpm2-blob comes from the LUKS header (a drive anyone could
// have changed); Unseal splits it and hands its parts to go-tpm's unmarshalling before
// any TPM sees them. Whatever the bytes, that gives errors, not panics.
func FuzzSealedBlob(f *testing.F) {
	for _, n := range []string{"systemd252-pcr7.json", "systemd252-pcr0+7-pin.json", "systemd256-arrays-pin-srk.json"} {
		tok, err := ParseToken(readSample(f, n))
		if err != nil {
			f.Fatal(err)
		}
		b, err := tok.Blob()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) > MaxBlobSize {
			return // ParseToken refuses larger blobs
		}
		priv, pub, _, err := SplitBlob(blob)
		if err != nil {
			return
		}
		if _, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](priv); err != nil {
			return
		}
		pubB, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pub)
		if err != nil {
			return
		}
		if p, err := pubB.Contents(); err == nil {
			_ = p.Type
		}
	})
}
