package luks_test

// Interop tests with cryptsetup 2.x as the oracle, both ways, on plain files (no
// device-mapper, no root needed). They need the cryptsetup binary and
// /usr/bin/python3 with python3-cryptography (for an independent AES-XTS in
// testdata/xts.py): `make test` installs both. They are never skipped: a missing tool
// is a test failure.
//
// cryptsetup run as root silently rewrites a header copy with a bad checksum, so it
// only ever sees copies of damaged headers here.

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"travelkit/luks"
)

// Cheap KDF costs: these tests check formats, not strength.
var (
	cheapArgon = luks.PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: 32, Parallel: 1}
	cheapCS    = []string{"--pbkdf-memory", "32", "--pbkdf-parallel", "1", "--pbkdf-force-iterations", "4"}
)

const payloadSize = 1 << 20 // the test volumes: 16 MiB of header and keyslots, then this

func cryptsetupPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("cryptsetup")
	if err != nil {
		for _, c := range []string{"/usr/sbin/cryptsetup", "/sbin/cryptsetup"} {
			if _, err := os.Stat(c); err == nil {
				return c
			}
		}
		t.Fatalf("cryptsetup is needed for the LUKS2 interop tests and was not found: install cryptsetup-bin (make test-deps)")
	}
	return p
}

// cs runs cryptsetup and fails the test when it fails.
func cs(t *testing.T, args ...string) string {
	t.Helper()
	out, code, err := csCode(t, args...)
	if code != 0 {
		t.Fatalf("cryptsetup %s: exit %d: %v\n%s", strings.Join(args, " "), code, err, out)
	}
	return out
}

// csCode runs cryptsetup and returns its combined output and exit code.
func csCode(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	cmd := exec.Command(cryptsetupPath(t), append([]string{"--batch-mode"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0, nil
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode(), err
	}
	t.Fatalf("cryptsetup %s: %v", strings.Join(args, " "), err)
	return "", -1, err
}

// xts runs the independent AES-XTS of testdata/xts.py.
func xts(t *testing.T, op, keyFile string, sectorSize int, firstSector int64, in []byte) []byte {
	t.Helper()
	script, err := filepath.Abs("testdata/xts.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", script, op, keyFile, strconv.Itoa(sectorSize), strconv.FormatInt(firstSector, 10))
	cmd.Stdin = bytes.NewReader(in)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testdata/xts.py %s (needs /usr/bin/python3 with python3-cryptography: make test-deps): %v\n%s", op, err, stderr.String())
	}
	if out.Len() != len(in) {
		t.Fatalf("xts.py %s gave %d bytes for %d", op, out.Len(), len(in))
	}
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newImage creates an empty file for a volume with a 1 MiB payload.
func newImage(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(luks.DefaultDataOffset + payloadSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// openFile opens a container file with package luks; the file is closed with the test.
func openFile(t *testing.T, path string) (*os.File, *luks.Container) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	c, err := luks.Open(f, st.Size())
	if err != nil {
		t.Fatalf("luks.Open(%s): %v", filepath.Base(path), err)
	}
	return f, c
}

func copyFile(t *testing.T, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Dir(to), filepath.Base(to), b)
}

// dumpedKey asks cryptsetup for the volume key of path.
func dumpedKey(t *testing.T, path, passFile string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "vk")
	cs(t, "luksDump", "--dump-volume-key", "--volume-key-file", out, "--key-file", passFile, path)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// csMetadata is the part of `cryptsetup luksDump --dump-json-metadata` the tests look at.
type csMetadata struct {
	Keyslots map[string]json.RawMessage `json:"keyslots"`
	Tokens   map[string]struct {
		Type     string   `json:"type"`
		Keyslots []string `json:"keyslots"`
	} `json:"tokens"`
	Digests map[string]struct {
		Keyslots []string `json:"keyslots"`
	} `json:"digests"`
	Segments map[string]struct {
		SectorSize int `json:"sector_size"`
	} `json:"segments"`
}

func csJSON(t *testing.T, path string) csMetadata {
	t.Helper()
	var m csMetadata
	out := cs(t, "luksDump", "--dump-json-metadata", path)
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("cryptsetup luksDump --dump-json-metadata: %v\n%s", err, out)
	}
	return m
}

// Volumes formatted by travelkit: cryptsetup accepts the header, the passphrase and the
// volume key, and the payload decrypts with an independent AES-XTS.
func TestCryptsetupAcceptsTravelkitVolumes(t *testing.T) {
	cryptsetupPath(t)
	for _, sector := range []int{512, 4096} {
		for _, keySize := range []int{32, 64} {
			t.Run(fmt.Sprintf("sector%d-key%d", sector, keySize*8), func(t *testing.T) {
				dir := t.TempDir()
				img := newImage(t, dir, "vol.luks")
				pass := []byte("travelkit pass\nwith a newline")
				passFile := writeFile(t, dir, "pass", pass)
				wrongFile := writeFile(t, dir, "wrong", []byte("travelkit pass\nwith a newline\n"))
				f, err := os.OpenFile(img, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				c, vk, err := luks.Format(f, luks.DefaultDataOffset+payloadSize, pass,
					luks.FormatOptions{KeySize: keySize, SectorSize: sector, PBKDF: cheapArgon, Label: "interop"})
				if err != nil {
					t.Fatalf("Format: %v", err)
				}
				dump := cs(t, "luksDump", img)
				for _, want := range []string{"Version:       \t2", fmt.Sprintf("sector: %d [bytes]", sector),
					fmt.Sprintf("Key:        %d bits", keySize*8), "PBKDF:      argon2id", "Label:         \tinterop", c.UUID()} {
					if !strings.Contains(dump, want) {
						t.Errorf("cryptsetup luksDump lacks %q:\n%s", want, dump)
					}
				}
				cs(t, "open", "--test-passphrase", "--key-file", passFile, img)
				cs(t, "open", "--test-passphrase", "--key-slot", "0", "--key-file", passFile, img)
				if out, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", wrongFile, img); code == 0 {
					t.Errorf("cryptsetup accepted a wrong passphrase:\n%s", out)
				}
				key := dumpedKey(t, img, passFile)
				if !bytes.Equal(key, vk.Bytes()) {
					t.Fatalf("cryptsetup's volume key differs from travelkit's")
				}
				keyFile := writeFile(t, dir, "vk", key)

				// Payload: a whole aligned region, then unaligned writes over it.
				v, err := c.OpenVolume(vk)
				if err != nil {
					t.Fatal(err)
				}
				const region = 64 << 10
				model := randBytes(region)
				if _, err := v.WriteAt(model, 0); err != nil {
					t.Fatal(err)
				}
				for _, w := range []struct{ off, n int }{{sector + 100, 10000}, {3, 5}, {region - 700, 700}, {8192, 4096}} {
					b := randBytes(w.n)
					if _, err := v.WriteAt(b, int64(w.off)); err != nil {
						t.Fatalf("WriteAt(%d bytes at %d): %v", w.n, w.off, err)
					}
					copy(model[w.off:], b)
				}
				if err := v.Flush(); err != nil {
					t.Fatal(err)
				}
				ct := make([]byte, region)
				if _, err := f.ReadAt(ct, c.DataOffset()); err != nil {
					t.Fatal(err)
				}
				if got := xts(t, "decrypt", keyFile, sector, 0, ct); !bytes.Equal(got, model) {
					t.Fatalf("the payload does not decrypt to what was written (independent AES-XTS, first difference at byte %d)", firstDiff(got, model))
				}
				// A region far into the payload: the tweak must count from the payload start.
				far := int64(payloadSize - 2*sector)
				b := randBytes(2 * sector)
				if _, err := v.WriteAt(b, far); err != nil {
					t.Fatal(err)
				}
				v.Flush()
				ct = make([]byte, 2*sector)
				f.ReadAt(ct, c.DataOffset()+far)
				if got := xts(t, "decrypt", keyFile, sector, far/int64(sector), ct); !bytes.Equal(got, b) {
					t.Fatalf("the end of the payload does not decrypt to what was written")
				}
				v.Close()
				vk.Wipe()
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Volumes formatted by cryptsetup with each KDF: travelkit unlocks every keyslot, lists
// the tokens, and reads data that the independent AES-XTS placed in the payload.
func TestTravelkitOpensCryptsetupVolumes(t *testing.T) {
	cryptsetupPath(t)
	cases := []struct {
		name     string
		kdf      []string
		sector   int
		keyBits  int
		wantType string
	}{
		{"argon2id-4096-512", append([]string{"--pbkdf", "argon2id"}, cheapCS...), 4096, 512, "argon2id"},
		{"argon2i-512-256", append([]string{"--pbkdf", "argon2i"}, cheapCS...), 512, 256, "argon2i"},
		{"pbkdf2-sha256-512-512", []string{"--pbkdf", "pbkdf2", "--hash", "sha256", "--pbkdf-force-iterations", "1000"}, 512, 512, "pbkdf2"},
		{"pbkdf2-sha512-4096-256", []string{"--pbkdf", "pbkdf2", "--hash", "sha512", "--pbkdf-force-iterations", "1000"}, 4096, 256, "pbkdf2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			img := newImage(t, dir, "cs.luks")
			p0 := writeFile(t, dir, "p0", []byte("zero\n"))
			p1 := writeFile(t, dir, "p1", []byte("one"))
			p2 := writeFile(t, dir, "p2", randBytes(100))
			args := append([]string{"luksFormat", "--type", "luks2", "--key-file", p0, "--sector-size", strconv.Itoa(tc.sector),
				"--key-size", strconv.Itoa(tc.keyBits), "--label", "from-cryptsetup"}, tc.kdf...)
			cs(t, append(args, img)...)
			cs(t, append(append([]string{"luksAddKey", "--key-file", p0, "--key-slot", "5"}, tc.kdf...), img, p1)...)
			cs(t, append(append([]string{"luksAddKey", "--key-file", p1, "--key-slot", "31"}, tc.kdf...), img, p2)...)
			tok := writeFile(t, dir, "tok.json", []byte(`{"type":"travelkit-test","keyslots":["5"],"note":"x"}`))
			cs(t, "token", "import", "--json-file", tok, "--token-id", "3", img)
			key := dumpedKey(t, img, p0)
			keyFile := writeFile(t, dir, "vk", key)

			// place data in the payload with the independent implementation
			f, err := os.OpenFile(img, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			plain := randBytes(8 * tc.sector)
			const firstSector = 3
			ct := xts(t, "encrypt", keyFile, tc.sector, firstSector, plain)
			if _, err := f.WriteAt(ct, luks.DefaultDataOffset+firstSector*int64(tc.sector)); err != nil {
				t.Fatal(err)
			}

			c, err := luks.Open(f, luks.DefaultDataOffset+payloadSize)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var mine, theirs any
			if err := json.Unmarshal(c.MetadataJSON(), &mine); err != nil {
				t.Fatalf("MetadataJSON: %v", err)
			}
			json.Unmarshal([]byte(cs(t, "luksDump", "--dump-json-metadata", img)), &theirs)
			if !reflect.DeepEqual(mine, theirs) {
				t.Errorf("MetadataJSON differs from cryptsetup's --dump-json-metadata:\n%s\n%s", c.MetadataJSON(), cs(t, "luksDump", "--dump-json-metadata", img))
			}
			if c.Label() != "from-cryptsetup" || c.SectorSize() != tc.sector || c.KeySize() != tc.keyBits/8 {
				t.Errorf("label %q sector %d key %d", c.Label(), c.SectorSize(), c.KeySize())
			}
			slots := map[int]string{0: p0, 5: p1, 31: p2}
			for _, ks := range c.Keyslots() {
				if _, ok := slots[ks.ID]; !ok {
					t.Errorf("unexpected keyslot %d", ks.ID)
				}
				if ks.PBKDF.Type != tc.wantType {
					t.Errorf("keyslot %d: kdf %q, want %q", ks.ID, ks.PBKDF.Type, tc.wantType)
				}
			}
			if len(c.Keyslots()) != 3 {
				t.Errorf("%d keyslots, want 3", len(c.Keyslots()))
			}
			for slot, pf := range slots {
				pass, _ := os.ReadFile(pf)
				vk, got, err := c.Unlock(pass)
				if err != nil || got != slot {
					t.Fatalf("Unlock with the passphrase of keyslot %d: slot %d, %v", slot, got, err)
				}
				if !bytes.Equal(vk.Bytes(), key) {
					t.Fatalf("keyslot %d gives another volume key than cryptsetup's", slot)
				}
				vk2, err := c.UnlockSlot(pass, slot)
				if err != nil {
					t.Fatalf("UnlockSlot(%d): %v", slot, err)
				}
				vk2.Wipe()
				other := map[int]int{0: 5, 5: 31, 31: 0}[slot]
				if _, err := c.UnlockSlot(pass, other); !errors.Is(err, luks.ErrWrongPassphrase) {
					t.Errorf("UnlockSlot(%d) with the passphrase of %d: %v, want ErrWrongPassphrase", other, slot, err)
				}
			}
			if _, _, err := c.Unlock([]byte("zero")); !errors.Is(err, luks.ErrWrongPassphrase) {
				t.Errorf("Unlock with a wrong passphrase: %v", err)
			}
			toks := c.Tokens()
			if len(toks) != 1 || toks[0].ID != 3 || toks[0].Type != "travelkit-test" || len(toks[0].Keyslots) != 1 || toks[0].Keyslots[0] != 5 {
				t.Errorf("tokens: %+v", toks)
			} else if !bytes.Contains(toks[0].JSON, []byte(`"note"`)) {
				t.Errorf("token JSON lacks its own fields: %s", toks[0].JSON)
			}

			vk := luks.NewVolumeKey(key)
			if err := c.CheckVolumeKey(vk); err != nil {
				t.Fatalf("CheckVolumeKey(cryptsetup's key): %v", err)
			}
			if err := c.CheckVolumeKey(luks.NewVolumeKey(randBytes(len(key)))); !errors.Is(err, luks.ErrWrongVolumeKey) {
				t.Errorf("CheckVolumeKey(random): %v", err)
			}
			v, err := c.OpenVolume(vk)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if v.Size() != payloadSize {
				t.Errorf("payload size %d, want %d", v.Size(), payloadSize)
			}
			base := int64(firstSector * tc.sector)
			got := make([]byte, len(plain))
			if _, err := v.ReadAt(got, base); err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("aligned read: %v, first difference at %d", err, firstDiff(got, plain))
			}
			for _, r := range []struct{ off, n int }{{1, 10}, {tc.sector - 1, 2}, {700, 3 * tc.sector}, {len(plain) - 5, 5}} {
				got := make([]byte, r.n)
				if _, err := v.ReadAt(got, base+int64(r.off)); err != nil || !bytes.Equal(got, plain[r.off:r.off+r.n]) {
					t.Fatalf("ReadAt(%d bytes at %d): %v, mismatch", r.n, r.off, err)
				}
			}
		})
	}
}

// Changes made by travelkit are seen by cryptsetup, and the other way round.
func TestKeyslotAndTokenChangesBothWays(t *testing.T) {
	cryptsetupPath(t)
	dir := t.TempDir()
	img := newImage(t, dir, "vol.luks")
	p0 := writeFile(t, dir, "p0", []byte("p0"))
	p2 := writeFile(t, dir, "p2", []byte("p2"))
	p7 := writeFile(t, dir, "p7", []byte("p7"))
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, vk, err := luks.Format(f, luks.DefaultDataOffset+payloadSize, []byte("p0"), luks.FormatOptions{PBKDF: cheapArgon})
	if err != nil {
		t.Fatal(err)
	}
	defer vk.Wipe()

	// travelkit → cryptsetup
	if got, err := c.AddKeyslot(vk, []byte("p2"), 2, luks.PBKDF{Type: "pbkdf2", Hash: "sha512", Iterations: 1000}); err != nil || got != 2 {
		t.Fatalf("AddKeyslot: %d, %v", got, err)
	}
	cs(t, "open", "--test-passphrase", "--key-slot", "2", "--key-file", p2, img)
	// every KDF travelkit writes, at high slot numbers
	for slot, p := range map[int]luks.PBKDF{
		12: {Type: "pbkdf2", Hash: "sha256", Iterations: 1000},
		20: {Type: "argon2i", Iterations: 4, MemoryKiB: 64, Parallel: 4},
		31: {Type: "argon2id", Iterations: 5, MemoryKiB: 100, Parallel: 3},
	} {
		pass := []byte("slot " + strconv.Itoa(slot))
		if got, err := c.AddKeyslot(vk, pass, slot, p); err != nil || got != slot {
			t.Fatalf("AddKeyslot(%d, %s): %d, %v", slot, p.Type, got, err)
		}
		pf := writeFile(t, dir, "slot"+strconv.Itoa(slot), pass)
		cs(t, "open", "--test-passphrase", "--key-slot", strconv.Itoa(slot), "--key-file", pf, img)
		if err := c.RemoveKeyslot(slot, false); err != nil {
			t.Fatal(err)
		}
	}
	if m := csJSON(t, img); m.Keyslots["2"] == nil || !contains(m.Digests["0"].Keyslots, "2") {
		t.Errorf("cryptsetup does not see keyslot 2 in the keyslots and digest: %+v", m)
	}
	id, err := c.AddToken(-1, []byte(`{"type":"travelkit-test","keyslots":["2"],"x":[1,2]}`))
	if err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	exp := filepath.Join(dir, "tok.out")
	cs(t, "token", "export", "--token-id", strconv.Itoa(id), "--json-file", exp, img)
	if b, _ := os.ReadFile(exp); !bytes.Contains(b, []byte("travelkit-test")) {
		t.Errorf("cryptsetup token export: %s", b)
	}
	if got, err := c.AddToken(5, []byte(`{"type":"second","keyslots":[]}`)); err != nil || got != 5 {
		t.Fatalf("AddToken(5): %d, %v", got, err)
	}
	if err := c.RemoveToken(id); err != nil {
		t.Fatal(err)
	}
	m := csJSON(t, img)
	if _, ok := m.Tokens[strconv.Itoa(id)]; ok {
		t.Errorf("cryptsetup still sees removed token %d", id)
	}
	if m.Tokens["5"].Type != "second" {
		t.Errorf("cryptsetup does not see token 5: %+v", m.Tokens)
	}
	// a token naming keyslot 2, then keyslot 2 removed: the token must drop it
	if _, err := c.AddToken(6, []byte(`{"type":"names-2","keyslots":["2"]}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveKeyslot(2, false); err != nil {
		t.Fatal(err)
	}
	if out, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", p2, img); code == 0 {
		t.Errorf("cryptsetup still accepts the passphrase of removed keyslot 2:\n%s", out)
	}
	m = csJSON(t, img) // cryptsetup rejects a header whose token names a missing keyslot
	if m.Keyslots["2"] != nil || contains(m.Digests["0"].Keyslots, "2") || contains(m.Tokens["6"].Keyslots, "2") {
		t.Errorf("keyslot 2 still named after RemoveKeyslot: %+v", m)
	}
	cs(t, "open", "--test-passphrase", "--key-file", p0, img)

	// cryptsetup → travelkit
	cs(t, append([]string{"luksAddKey", "--key-file", p0, "--key-slot", "7"}, append(cheapCS, img, p7)...)...)
	tok := writeFile(t, dir, "tok.json", []byte(`{"type":"from-cryptsetup","keyslots":["7"]}`))
	cs(t, "token", "import", "--json-file", tok, "--token-id", "9", img)
	_, c2 := openFile(t, img)
	if vk7, err := c2.UnlockSlot([]byte("p7"), 7); err != nil {
		t.Fatalf("travelkit does not unlock keyslot 7 added by cryptsetup: %v", err)
	} else {
		vk7.Wipe()
	}
	found := false
	for _, tk := range c2.Tokens() {
		if tk.ID == 9 && tk.Type == "from-cryptsetup" && len(tk.Keyslots) == 1 && tk.Keyslots[0] == 7 {
			found = true
		}
	}
	if !found {
		t.Errorf("travelkit does not see token 9 imported by cryptsetup: %+v", c2.Tokens())
	}
	cs(t, "token", "remove", "--token-id", "9", img)
	cs(t, "luksKillSlot", "--key-file", p0, img, "7")
	_, c3 := openFile(t, img)
	for _, ks := range c3.Keyslots() {
		if ks.ID == 7 {
			t.Errorf("travelkit still sees keyslot 7 killed by cryptsetup")
		}
	}
	for _, tk := range c3.Tokens() {
		if tk.ID == 9 {
			t.Errorf("travelkit still sees token 9 removed by cryptsetup")
		}
	}
	if _, err := c3.UnlockSlot([]byte("p7"), 7); err == nil {
		t.Errorf("keyslot 7 still unlocks after luksKillSlot")
	}
	// and travelkit keeps changing a header that cryptsetup wrote last
	if _, err := c3.AddKeyslot(vk, []byte("p2"), -1, cheapArgon); err != nil {
		t.Fatalf("AddKeyslot after cryptsetup's changes: %v", err)
	}
	cs(t, "open", "--test-passphrase", "--key-file", p2, img)
	if err := c3.RemoveKeyslot(0, false); err != nil {
		t.Fatal(err)
	}
	if _, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", p0, img); code == 0 {
		t.Errorf("cryptsetup accepts p0 after travelkit removed keyslot 0")
	}
	if err := c3.RemoveKeyslot(1, false); !errors.Is(err, luks.ErrLastKeyslot) {
		t.Errorf("removing the last keyslot: %v, want ErrLastKeyslot", err)
	}

	// a changed passphrase, then an erase
	if slot, err := c3.ChangePassphrase([]byte("p2"), []byte("p7"), -1, luks.PBKDF{Type: "argon2i", Iterations: 4, MemoryKiB: 64, Parallel: 2}); err != nil || slot != 1 {
		t.Fatalf("ChangePassphrase: %d, %v", slot, err)
	}
	cs(t, "open", "--test-passphrase", "--key-slot", "1", "--key-file", p7, img)
	if _, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", p2, img); code == 0 {
		t.Errorf("cryptsetup accepts the old passphrase after ChangePassphrase")
	}
	if !strings.Contains(cs(t, "luksDump", img), "PBKDF:      argon2i\n") {
		t.Errorf("cryptsetup does not see the new argon2i keyslot")
	}
	if err := c3.Erase(); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if m := csJSON(t, img); len(m.Keyslots) != 0 {
		t.Errorf("cryptsetup sees %d keyslots after Erase", len(m.Keyslots))
	}
	if _, code, _ := csCode(t, "open", "--test-passphrase", "--key-file", p7, img); code == 0 {
		t.Errorf("cryptsetup accepts a passphrase after Erase")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// corrupt flips a byte of path at off.
func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	f.ReadAt(b[:], off)
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// csSeesChecksumError runs cryptsetup --debug luksDump on a copy of path and reports
// whether it found a header checksum error.
func csSeesChecksumError(t *testing.T, path string) bool {
	t.Helper()
	cp := copyFile(t, path, filepath.Join(t.TempDir(), "copy.luks"))
	out, _, _ := csCode(t, "--debug", "luksDump", cp)
	return strings.Contains(strings.ToLower(out), "checksum error")
}

// A damaged primary header: unlock from the secondary; both damaged: ErrBothHeadersBad;
// Repair, and cryptsetup sees a clean header.
func TestCryptsetupDamagedHeaders(t *testing.T) {
	cryptsetupPath(t)
	for _, maker := range []string{"travelkit", "cryptsetup"} {
		t.Run(maker, func(t *testing.T) {
			dir := t.TempDir()
			img := newImage(t, dir, "vol.luks")
			passFile := writeFile(t, dir, "pass", []byte("pass"))
			if maker == "travelkit" {
				f, err := os.OpenFile(img, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, vk, err := luks.Format(f, luks.DefaultDataOffset+payloadSize, []byte("pass"), luks.FormatOptions{PBKDF: cheapArgon})
				if err != nil {
					t.Fatal(err)
				}
				vk.Wipe()
				f.Close()
			} else {
				cs(t, append([]string{"luksFormat", "--type", "luks2", "--key-file", passFile}, append(cheapCS, img)...)...)
			}
			if csSeesChecksumError(t, img) {
				t.Fatalf("cryptsetup sees a checksum error in a fresh header")
			}
			primary := copyFile(t, img, filepath.Join(dir, "primary-bad.luks"))
			corrupt(t, primary, 4096+10) // the primary JSON area
			if !csSeesChecksumError(t, primary) {
				t.Fatalf("the corruption did not hit the primary header (cryptsetup sees no checksum error)")
			}
			_, c := openFile(t, primary)
			st := c.State()
			if st.PrimaryErr == nil || st.SecondaryErr != nil || st.UsedCopy != "secondary" {
				t.Errorf("state after primary damage: %+v", st)
			}
			vk, _, err := c.Unlock([]byte("pass"))
			if err != nil {
				t.Fatalf("Unlock from the secondary header: %v", err)
			}
			vk.Wipe()
			if err := c.Repair(); err != nil {
				t.Fatalf("Repair: %v", err)
			}
			if csSeesChecksumError(t, primary) {
				t.Errorf("cryptsetup still sees a checksum error after Repair")
			}
			cs(t, "open", "--test-passphrase", "--key-file", passFile, copyFile(t, primary, filepath.Join(t.TempDir(), "c.luks")))
			_, c2 := openFile(t, primary)
			if st := c2.State(); st.PrimaryErr != nil || st.SecondaryErr != nil || !st.InSync {
				t.Errorf("state after Repair: %+v", st)
			}

			// cryptsetup repair fixes what travelkit then sees as clean
			csFixed := copyFile(t, img, filepath.Join(dir, "cs-repair.luks"))
			corrupt(t, csFixed, 4096+10)
			cs(t, "repair", csFixed)
			_, c5 := openFile(t, csFixed)
			if st := c5.State(); st.PrimaryErr != nil || st.SecondaryErr != nil || !st.InSync {
				t.Errorf("state after cryptsetup repair: %+v", st)
			}

			// the secondary only
			secondary := copyFile(t, img, filepath.Join(dir, "secondary-bad.luks"))
			corrupt(t, secondary, luks.DefaultHeaderSize+4096+10)
			_, c3 := openFile(t, secondary)
			if st := c3.State(); st.PrimaryErr != nil || st.SecondaryErr == nil || st.UsedCopy != "primary" {
				t.Errorf("state after secondary damage: %+v", st)
			}

			// both
			both := copyFile(t, img, filepath.Join(dir, "both-bad.luks"))
			corrupt(t, both, 4096+10)
			corrupt(t, both, luks.DefaultHeaderSize+4096+10)
			f, err := os.Open(both)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := luks.Open(f, luks.DefaultDataOffset+payloadSize); !errors.Is(err, luks.ErrBothHeadersBad) {
				t.Errorf("Open with both headers damaged: %v, want ErrBothHeadersBad", err)
			}
			// and the binary header (magic) of the primary
			magic := copyFile(t, img, filepath.Join(dir, "magic-bad.luks"))
			corrupt(t, magic, 1)
			_, c4 := openFile(t, magic)
			if vk, _, err := c4.Unlock([]byte("pass")); err != nil {
				t.Errorf("Unlock with a damaged primary magic: %v", err)
			} else {
				vk.Wipe()
			}
		})
	}
}

// LUKS1 volumes are recognised and named.
func TestLUKS1IsNamed(t *testing.T) {
	dir := t.TempDir()
	img := newImage(t, dir, "luks1.img")
	passFile := writeFile(t, dir, "pass", []byte("pass"))
	cs(t, "luksFormat", "--type", "luks1", "--key-file", passFile, "--pbkdf-force-iterations", "1000", "--hash", "sha256", img)
	uuid := strings.TrimSpace(cs(t, "luksUUID", img))
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = luks.Open(f, luks.DefaultDataOffset+payloadSize)
	var l1 *luks.LUKS1Error
	if !errors.As(err, &l1) {
		t.Fatalf("Open(LUKS1): %v, want *LUKS1Error", err)
	}
	if l1.UUID != uuid {
		t.Errorf("LUKS1Error.UUID %q, want %q", l1.UUID, uuid)
	}
}

// Wrong files: not LUKS, truncated, too small.
func TestOpenRefusesBadDevices(t *testing.T) {
	dir := t.TempDir()
	img := newImage(t, dir, "zero.img")
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := luks.Open(f, luks.DefaultDataOffset+payloadSize); !errors.Is(err, luks.ErrNotLUKS) {
		t.Errorf("Open(zeros): %v, want ErrNotLUKS", err)
	}
	if _, _, err := luks.Format(f, 1<<20, []byte("p"), luks.FormatOptions{PBKDF: cheapArgon}); err == nil {
		t.Errorf("Format on a 1 MiB device succeeded")
	}
	if _, _, err := luks.Format(f, luks.DefaultDataOffset+payloadSize, []byte("p"), luks.FormatOptions{PBKDF: cheapArgon}); err != nil {
		t.Fatal(err)
	}
	// Truncated: Open may read the header (as cryptsetup luksDump does), but nothing
	// past the end may be used: unlocking or opening the payload fails.
	for _, size := range []int64{0, 100, 4096, luks.DefaultHeaderSize, 2 * luks.DefaultHeaderSize, 1 << 20, luks.DefaultDataOffset} {
		c, err := luks.Open(f, size)
		if err != nil {
			if size >= 2*luks.DefaultHeaderSize && errors.Is(err, luks.ErrNotLUKS) {
				t.Errorf("Open(truncated to %d): %v; want an error that says it is truncated", size, err)
			}
			continue
		}
		vk, _, err := c.Unlock([]byte("p"))
		if err == nil {
			_, err = c.OpenVolume(vk)
		}
		if err == nil {
			t.Errorf("a device truncated to %d bytes unlocks and opens", size)
		} else {
			t.Logf("truncated to %d: %v", size, err)
		}
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the real headers in testdata (needs cryptsetup)")

// TestSaveSeedCorpus writes the header areas of real volumes (both header copies) to
// testdata/*.hdr, the seed corpus of the header fuzz targets; gzipped (.hdr.gz) when
// over 64 KiB. It writes only with -update-seeds; the files are committed.
func TestSaveSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		return // nothing to check: TestSeedHeadersOpen checks the committed files
	}
	dir := t.TempDir()
	passFile := writeFile(t, dir, "pass", []byte("pass"))
	p1 := writeFile(t, dir, "p1", []byte("p1"))
	out := "testdata"
	save := func(name, img string, n int64) {
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		file, data := filepath.Join(out, name+".hdr"), b[:n]
		if n > 64<<10 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(data)
			zw.Close()
			file, data = file+".gz", buf.Bytes()
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"cryptsetup-argon2id-4096", append([]string{"--pbkdf", "argon2id", "--sector-size", "4096"}, cheapCS...)},
		{"cryptsetup-argon2i-512-256", append([]string{"--pbkdf", "argon2i", "--sector-size", "512", "--key-size", "256"}, cheapCS...)},
		{"cryptsetup-pbkdf2-sha512", []string{"--pbkdf", "pbkdf2", "--hash", "sha512", "--pbkdf-force-iterations", "1000"}},
		{"cryptsetup-metadata-64k", append([]string{"--luks2-metadata-size", "65536", "--luks2-keyslots-size", "1048576", "--label", "big-json"}, cheapCS...)},
	} {
		img := newImage(t, dir, c.name)
		cs(t, append(append([]string{"luksFormat", "--type", "luks2", "--key-file", passFile}, c.args...), img)...)
		cs(t, append([]string{"luksAddKey", "--key-file", passFile, "--key-slot", "3"}, append(cheapCS, img, p1)...)...)
		tok := writeFile(t, dir, "tok.json", []byte(`{"type":"systemd-tpm2","keyslots":["3"],"tpm2-blob":"AAECAwQFBgcICQ==","tpm2-pcrs":[7],"tpm2-pcr-bank":"sha256","tpm2-primary-alg":"ecc","tpm2-policy-hash":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","tpm2-pin":false}`))
		cs(t, "token", "import", "--json-file", tok, img)
		hdr := int64(luks.DefaultHeaderSize)
		if strings.Contains(c.name, "64k") {
			hdr = 65536
		}
		save(c.name, img, 2*hdr)
	}
	img := newImage(t, dir, "travelkit")
	f, _ := os.OpenFile(img, os.O_RDWR, 0)
	c, vk, err := luks.Format(f, luks.DefaultDataOffset+payloadSize, []byte("pass"), luks.FormatOptions{PBKDF: cheapArgon, Label: "travelkit", SectorSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	c.AddKeyslot(vk, []byte("p1"), 4, luks.PBKDF{Type: "pbkdf2", Hash: "sha256", Iterations: 1000})
	c.AddToken(-1, []byte(`{"type":"travelkit-test","keyslots":["4"]}`))
	vk.Wipe()
	f.Close()
	save("travelkit-512-pbkdf2", img, 2*luks.DefaultHeaderSize)
	l1 := newImage(t, dir, "luks1")
	cs(t, "luksFormat", "--type", "luks1", "--key-file", passFile, "--pbkdf-force-iterations", "1000", l1)
	save("cryptsetup-luks1", l1, 4096)
}

// The saved real headers open (LUKS2) or are named (LUKS1), with the expected metadata.
func TestSeedHeadersOpen(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.hdr*")
	if len(files) < 6 {
		t.Fatalf("%d seed headers in testdata, want 6 (regenerate: go test -run TestSaveSeedCorpus -update-seeds)", len(files))
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		b := bytes.NewBuffer(raw)
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			b = new(bytes.Buffer)
			if _, err := b.ReadFrom(zr); err != nil {
				t.Fatal(err)
			}
		}
		c, err := luks.Open(bytes.NewReader(b.Bytes()), int64(b.Len()))
		base := filepath.Base(name)
		if strings.Contains(base, "luks1") {
			var l1 *luks.LUKS1Error
			if !errors.As(err, &l1) {
				t.Errorf("%s: %v, want *LUKS1Error", base, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if st := c.State(); st.PrimaryErr != nil || st.SecondaryErr != nil || !st.InSync {
			t.Errorf("%s: header state %+v", base, st)
		}
		if len(c.Keyslots()) != 2 || len(c.Tokens()) != 1 {
			t.Errorf("%s: %d keyslots, %d tokens; want 2 and 1", base, len(c.Keyslots()), len(c.Tokens()))
		}
		if !json.Valid(c.MetadataJSON()) {
			t.Errorf("%s: MetadataJSON is not valid JSON", base)
		}
	}
}

// A large unaligned write (the Volume's multi-core path, several chunks) decrypts with the
// independent AES-XTS keyed by cryptsetup's dump, and reads back through the Volume.
func TestLargeWriteDecryptsIndependently(t *testing.T) {
	cryptsetupPath(t)
	for _, sector := range []int{512, 4096} {
		t.Run(strconv.Itoa(sector), func(t *testing.T) {
			dir := t.TempDir()
			const payload = 12 << 20
			img := filepath.Join(dir, "big.luks")
			f, err := os.Create(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			size := int64(luks.DefaultDataOffset + payload)
			f.Truncate(size)
			passFile := writeFile(t, dir, "pass", []byte("big"))
			c, vk, err := luks.Format(f, size, []byte("big"), luks.FormatOptions{SectorSize: sector, PBKDF: cheapArgon})
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.OpenVolume(vk)
			if err != nil {
				t.Fatal(err)
			}
			model := make([]byte, payload)
			if _, err := v.WriteAt(model, 0); err != nil { // known plaintext everywhere
				t.Fatal(err)
			}
			data := randBytes(payload - 2*sector - 1000)
			off := sector + 777
			if _, err := v.WriteAt(data, int64(off)); err != nil {
				t.Fatal(err)
			}
			copy(model[off:], data)
			if err := v.Flush(); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, payload)
			if _, err := v.ReadAt(got, 0); err != nil || !bytes.Equal(got, model) {
				t.Fatalf("read back: %v, first difference at %d", err, firstDiff(got, model))
			}
			v.Close()
			vk.Wipe()
			keyFile := writeFile(t, dir, "vk", dumpedKey(t, img, passFile))
			ct := make([]byte, payload)
			if _, err := f.ReadAt(ct, luks.DefaultDataOffset); err != nil {
				t.Fatal(err)
			}
			if plain := xts(t, "decrypt", keyFile, sector, 0, ct); !bytes.Equal(plain, model) {
				t.Fatalf("independent AES-XTS disagrees, first difference at byte %d", firstDiff(plain, model))
			}
		})
	}
}
