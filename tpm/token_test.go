package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "tpm", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Tokens as systemd-cryptenroll writes them: 252 (Debian 12, captured from a real
// enrolment against swtpm) and the newer form with arrays, tpm2_salt and tpm2_srk.
func TestParseSystemdTokens(t *testing.T) {
	for _, c := range []struct {
		file     string
		slot     int
		pcrs     []int
		pin      bool
		salt     bool
		srk      bool
		policy   string
		blobSize int
	}{
		{"systemd252-pcr7.json", 1, []int{7}, false, false, false, "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b", 240},
		{"systemd252-pcr0+7-pin.json", 1, []int{0, 7}, true, false, false, "a459f3351d48706d42b6a920938f56e28b7356602a02784cf0f37b6f5aeb068c", 240},
		{"systemd252-nopcr.json", 1, []int{}, false, false, false, "0000000000000000000000000000000000000000000000000000000000000000", 240},
		{"systemd256-arrays-pin-srk.json", 2, []int{7}, true, true, true, "a459f3351d48706d42b6a920938f56e28b7356602a02784cf0f37b6f5aeb068c", 240},
	} {
		tok, err := ParseToken(readSample(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if tok.Keyslots[0] != c.slot || !equalInts(tok.PCRs, c.pcrs) || tok.PIN != c.pin || (tok.Salt != nil) != c.salt ||
			(tok.SRK != nil) != c.srk || (tok.PCRBank != "sha256") != (len(c.pcrs) == 0) || tok.PrimaryAlg != "ecc" {
			t.Fatalf("%s: parsed %+v", c.file, tok)
		}
		ph, err := tok.PolicyHash()
		if err != nil || hex.EncodeToString(ph) != c.policy {
			t.Fatalf("%s: policy hash %x, %v", c.file, ph, err)
		}
		blob, err := tok.Blob()
		if err != nil || len(blob) != c.blobSize {
			t.Fatalf("%s: blob of %d bytes, %v", c.file, len(blob), err)
		}
		priv, pub, seed, err := SplitBlob(blob)
		if err != nil || seed != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		p, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pub)
		if err != nil {
			t.Fatalf("%s: public: %v", c.file, err)
		}
		pc, err := p.Contents()
		if err != nil || pc.Type != tpm2.TPMAlgKeyedHash || pc.NameAlg != tpm2.TPMAlgSHA256 ||
			!pc.ObjectAttributes.FixedTPM || !pc.ObjectAttributes.FixedParent || pc.ObjectAttributes.UserWithAuth ||
			!bytes.Equal(pc.AuthPolicy.Buffer, ph) {
			t.Fatalf("%s: sealed object %+v, %v", c.file, pc, err)
		}
		if _, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](priv); err != nil {
			t.Fatalf("%s: private: %v", c.file, err)
		}
		// Re-marshalled and re-parsed, the token is the same.
		again, err := ParseToken(tok.JSON())
		if err != nil || !jsonEqual(again, tok) {
			t.Fatalf("%s: round trip: %v\n%s", c.file, err, tok.JSON())
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// arrayForm rewrites tpm2-blob and tpm2-policy-hash as arrays, as newer systemd writes them.
func arrayForm(t testing.TB, j []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	m["tpm2-blob"] = []any{m["tpm2-blob"]}
	m["tpm2-policy-hash"] = []any{m["tpm2-policy-hash"]}
	out, _ := json.Marshal(m)
	return out
}

func TestParseArrayForm(t *testing.T) {
	s := readSample(t, "systemd252-pcr0+7-pin.json")
	a, err := ParseToken(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseToken(arrayForm(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(a, b) {
		t.Fatalf("string and array forms differ:\n%+v\n%+v", a, b)
	}
}

// The JSON travelkit writes has systemd's keys in systemd's order.
func TestMarshalFieldOrder(t *testing.T) {
	tok := &Token{
		Keyslots: []int{4}, Blobs: [][]byte{{0, 1, 9, 0, 1, 8}}, PCRs: []int{0, 7}, PCRBank: "sha256", PrimaryAlg: "ecc",
		PolicyHashes: [][]byte{bytes.Repeat([]byte{0xab}, 32)}, PIN: true, Salt: bytes.Repeat([]byte{1}, 16),
		PCRValues: map[int][]byte{7: make([]byte, 32), 0: bytes.Repeat([]byte{2}, 32)},
	}
	j := tok.JSON()
	dec := json.NewDecoder(bytes.NewReader(j))
	var keys []string
	depth := 0
	for {
		tk, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tk.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 && dec.More() {
				keys = append(keys, v)
				// skip the value
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	want := "type keyslots tpm2-blob tpm2-pcrs tpm2-pcr-bank tpm2-primary-alg tpm2-policy-hash tpm2-pin tpm2_salt travelkit-pcr-values"
	if strings.Join(keys, " ") != want {
		t.Fatalf("keys %v\nwant %s\n%s", keys, want, j)
	}
	if !strings.Contains(string(j), `"keyslots":["4"]`) || !strings.Contains(string(j), `"tpm2-pcrs":[0,7]`) || !strings.Contains(string(j), `"tpm2-pin":true`) {
		t.Fatalf("json %s", j)
	}
	back, err := ParseToken(j)
	if err != nil || !jsonEqual(back, tok) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	good := string(readSample(t, "systemd252-pcr7.json"))
	var m map[string]any
	if err := json.Unmarshal([]byte(good), &m); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) string {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	blob, _ := base64.StdEncoding.DecodeString(m["tpm2-blob"].(string))
	b64 := base64.StdEncoding.EncodeToString
	for name, j := range map[string]string{
		"not json":          "{",
		"array":             "[]",
		"wrong type":        with("type", "systemd-fido2"),
		"no keyslots":       with("keyslots", nil),
		"empty keyslots":    with("keyslots", []any{}),
		"keyslot number":    with("keyslots", []any{1}),
		"keyslot 32":        with("keyslots", []any{"32"}),
		"keyslot 01":        with("keyslots", []any{"01"}),
		"keyslot twice":     with("keyslots", []any{"1", "1"}),
		"no blob":           with("tpm2-blob", nil),
		"blob not b64":      with("tpm2-blob", "!!!"),
		"blob number":       with("tpm2-blob", 5),
		"blob empty array":  with("tpm2-blob", []any{}),
		"blob truncated":    with("tpm2-blob", b64(blob[:len(blob)-1])),
		"blob trailing":     with("tpm2-blob", b64(append(append([]byte{}, blob...), 0, 1, 7, 9))),
		"blob empty":        with("tpm2-blob", ""),
		"blob huge":         with("tpm2-blob", b64(make([]byte, MaxBlobSize+10))),
		"too many blobs":    with("tpm2-blob", make([]any, MaxBlobs+1)),
		"no policy":         with("tpm2-policy-hash", nil),
		"policy not hex":    with("tpm2-policy-hash", "zz"),
		"policy short":      with("tpm2-policy-hash", "abcd"),
		"no pcrs":           with("tpm2-pcrs", nil),
		"pcrs not array":    with("tpm2-pcrs", 7),
		"pcr 24":            with("tpm2-pcrs", []any{24}),
		"pcr -1":            with("tpm2-pcrs", []any{-1}),
		"pcr string":        with("tpm2-pcrs", []any{"7"}),
		"pcr float":         with("tpm2-pcrs", []any{7.5}),
		"pcr twice":         with("tpm2-pcrs", []any{7, 7}),
		"bank":              with("tpm2-pcr-bank", "sha384"),
		"primary":           with("tpm2-primary-alg", "dsa"),
		"pin string":        with("tpm2-pin", "yes"),
		"salt not b64":      with("tpm2_salt", "%%"),
		"salt empty":        with("tpm2_salt", ""),
		"srk short":         with("tpm2_srk", "AAE="),
		"pcr values bad":    with("travelkit-pcr-values", map[string]any{"7": "xyz"}),
		"pcr values key":    with("travelkit-pcr-values", map[string]any{"x": strings.Repeat("00", 32)}),
		"pubkey pcrs":       with("tpm2_pubkey_pcrs", []any{99}),
		"huge":              `{"type":"systemd-tpm2","x":"` + strings.Repeat("a", MaxTokenJSON) + `"}`,
		"policy array huge": with("tpm2-policy-hash", []any{strings.Repeat("ab", 100)}),
	} {
		if _, err := ParseToken([]byte(j)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Unknown fields are ignored, as systemd does.
	if _, err := ParseToken([]byte(with("x-other", "ignored"))); err != nil {
		t.Fatal(err)
	}
}

// A token using features travelkit cannot unseal is refused clearly (no TPM needed: the
// checks come first).
func TestUnsealUnsupported(t *testing.T) {
	tok, err := ParseToken(readSample(t, "systemd252-pcr7.json"))
	if err != nil {
		t.Fatal(err)
	}
	tp := New(nil)
	for name, mod := range map[string]func(*Token){
		"pcrlock":  func(k *Token) { k.PCRLock = true },
		"pubkey":   func(k *Token) { k.PubKey = []byte("pem"); k.PubKeyPCRs = []int{11} },
		"2 blobs":  func(k *Token) { k.Blobs = append(k.Blobs, k.Blobs[0]) },
		"sha1 pol": func(k *Token) { k.PolicyHashes = [][]byte{make([]byte, 20)} },
	} {
		c := *tok
		mod(&c)
		if _, err := tp.Unseal(&c, nil); !errors.Is(err, ErrUnsupportedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// PINAuth against an independent computation: openssl's PBKDF2, then base64 and SHA-256.
func TestPINAuth(t *testing.T) {
	requireTool(t, "openssl", "openssl")
	pin, salt := "Reisepass 2026", []byte("0123456789abcdef")
	out, err := exec.Command("openssl", "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256", "-kdfopt", "pass:"+pin,
		"-kdfopt", "hexsalt:"+hex.EncodeToString(salt), "-kdfopt", "iter:10000", "-binary", "PBKDF2").Output()
	if err != nil {
		t.Fatalf("openssl kdf: %v", err)
	}
	h := sha256.Sum256([]byte(base64.StdEncoding.EncodeToString(out)))
	want := bytes.TrimRight(h[:], "\x00")
	if got := PINAuth([]byte(pin), salt); !bytes.Equal(got, want) {
		t.Fatalf("PINAuth %x, want %x", got, want)
	}
	u := sha256.Sum256([]byte(pin))
	if got := PINAuth([]byte(pin), nil); !bytes.Equal(got, bytes.TrimRight(u[:], "\x00")) {
		t.Fatalf("unsalted PINAuth %x", got)
	}
	if got := trimTrailingZeros([]byte{1, 0, 2, 0, 0}); !bytes.Equal(got, []byte{1, 0, 2}) {
		t.Fatalf("trim %x", got)
	}
}

func FuzzParseToken(f *testing.F) {
	for _, n := range []string{"systemd252-pcr7.json", "systemd252-nopcr.json", "systemd252-pcr0+7-pin.json", "systemd256-arrays-pin-srk.json"} {
		s := readSample(f, n)
		f.Add(s)
		f.Add(arrayForm(f, s))
	}
	f.Add([]byte(`{"type":"systemd-tpm2","keyslots":["0"],"tpm2-blob":"AAEAAAEA","tpm2-pcrs":[],"tpm2-policy-hash":"` + strings.Repeat("00", 32) + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseToken(data)
		if err != nil {
			return
		}
		// Whatever parses re-marshals to JSON that parses to the same token.
		again, err := ParseToken(tok.JSON())
		if err != nil {
			t.Fatalf("re-parse of %s: %v", tok.JSON(), err)
		}
		if !jsonEqual(again, tok) {
			t.Fatalf("round trip changed the token:\n%s\n%s", data, tok.JSON())
		}
		if b, err := tok.Blob(); err == nil {
			if _, _, _, err := SplitBlob(b); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestPCRRecord(t *testing.T) {
	r := &PCRRecord{Keyslots: []int{3}, Bank: "sha256", Values: map[int][]byte{7: bytes.Repeat([]byte{7}, 32), 0: make([]byte, 32)}}
	j := r.JSON()
	want := `{"type":"travelkit-tpm2-pcrs","keyslots":["3"],"tpm2-pcr-bank":"sha256","tpm2-pcr-values":{"0":"` + strings.Repeat("00", 32) + `","7":"` + strings.Repeat("07", 32) + `"}}`
	if string(j) != want {
		t.Fatalf("JSON %s", j)
	}
	back, err := ParsePCRRecord(j)
	if err != nil || !jsonEqual(back, r) {
		t.Fatalf("round trip: %v", err)
	}
	if !back.Applies(&Token{Keyslots: []int{3}, PCRBank: "sha256"}) || back.Applies(&Token{Keyslots: []int{4}}) {
		t.Fatal("Applies")
	}
	for _, bad := range []string{
		`{"type":"systemd-tpm2","keyslots":["3"],"tpm2-pcr-bank":"sha256","tpm2-pcr-values":{}}`,
		`{"type":"travelkit-tpm2-pcrs","keyslots":[],"tpm2-pcr-bank":"sha256","tpm2-pcr-values":{}}`,
		`{"type":"travelkit-tpm2-pcrs","keyslots":["3"],"tpm2-pcr-bank":"md5","tpm2-pcr-values":{}}`,
		`{"type":"travelkit-tpm2-pcrs","keyslots":["3"],"tpm2-pcr-bank":"sha256","tpm2-pcr-values":{"24":"` + strings.Repeat("00", 32) + `"}}`,
		`{"type":"travelkit-tpm2-pcrs","keyslots":["3"],"tpm2-pcr-bank":"sha256","tpm2-pcr-values":{"7":"00"}}`,
		`{"type":"travelkit-tpm2-pcrs","keyslots":["3"],"tpm2-pcr-bank":"sha256"}`,
	} {
		if _, err := ParsePCRRecord([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzParsePCRRecord(f *testing.F) {
	f.Add((&PCRRecord{Keyslots: []int{1}, Bank: "sha256", Values: map[int][]byte{7: make([]byte, 32)}}).JSON())
	f.Add((&PCRRecord{Keyslots: []int{0, 5}, Bank: "sha1", Values: map[int][]byte{0: make([]byte, 20), 23: make([]byte, 20)}}).JSON())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParsePCRRecord(data)
		if err != nil {
			return
		}
		again, err := ParsePCRRecord(r.JSON())
		if err != nil || !jsonEqual(again, r) {
			t.Fatalf("round trip of %s: %v", data, err)
		}
	})
}
