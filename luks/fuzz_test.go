package luks

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// realHeader returns both header copies of a freshly formatted volume.
func realHeader(t testing.TB, opt FormatOptions) []byte {
	d, c, vk := format(t, opt)
	c.AddKeyslot(vk, []byte("two"), 3, cheapArgon)
	c.AddToken(-1, []byte(`{"type":"systemd-tpm2","keyslots":["3"],"tpm2-pcrs":[7]}`))
	return append([]byte(nil), d.b[:2*DefaultHeaderSize+65536]...)
}

// seedFiles adds header images kept in testdata (made by cryptsetup).
func seedFiles(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.hdr")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) <= 4<<20 {
			f.Add(b, false)
			f.Add(b, true)
		}
	}
}

// fixChecksum recomputes the primary copy's checksum so the fuzzer gets past it.
func fixChecksum(b []byte) {
	if len(b) < binHeaderSize {
		return
	}
	size := binary.BigEndian.Uint64(b[offHdrSize:])
	if !isValidHeaderSize(size) || uint64(len(b)) < size {
		return
	}
	sum, err := headerChecksum("sha256", b[:size])
	if err == nil {
		copy(b[offCsum:offCsum+csumLen], make([]byte, csumLen))
		copy(b[offCsum:], sum)
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(realHeader(f, FormatOptions{}), false)
	f.Add(realHeader(f, FormatOptions{KeySize: 32, SectorSize: 512}), true)
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if len(data) > 8<<20 {
			return
		}
		data = append([]byte(nil), data...)
		if fix {
			fixChecksum(data)
		}
		dev := &memDev{b: data}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		defer func() {
			runtime.ReadMemStats(&after)
			// both header copies and their JSON, a repair's rewrite: a few times the
			// input, never what a size field claims
			if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20+16*uint64(len(data)) {
				t.Fatalf("opening a %d-byte header allocated %d bytes", len(data), a)
			}
		}()
		if c, err := OpenLUKS1(dev, int64(len(data))); err == nil {
			c.Keyslots()
			c.PayloadSize()
			if c.AddToken(-1, []byte(`{"type":"x","keyslots":[]}`)); !bytes.Equal(dev.b, data) {
				t.Fatal("a LUKS1 header was written")
			}
		}
		c, err := Open(dev, int64(len(data)))
		if err != nil {
			return
		}
		c.Keyslots()
		c.Tokens()
		c.PayloadSize()
		c.KeySize()
		if _, err := parseMetadata(c.MetadataJSON()); err != nil {
			t.Fatalf("metadata of an accepted header does not reparse: %v", err)
		}
		_ = c.Repair()
	})
}

func FuzzMetadata(f *testing.F) {
	real := realHeader(f, FormatOptions{})
	js := real[binHeaderSize:]
	js = js[:strings.IndexByte(string(js), 0)]
	f.Add(string(js))
	f.Add(`{"keyslots":{},"tokens":{},"segments":{},"digests":{},"config":{}}`)
	f.Fuzz(func(t *testing.T, js string) {
		md, err := parseMetadata([]byte(js))
		if err != nil {
			return
		}
		if md.validate(DefaultHeaderSize, 1<<30) != nil {
			return
		}
		// an accepted header survives a rewrite unchanged in meaning
		b, err := md.marshal()
		if err != nil {
			t.Fatal(err)
		}
		md2, err := parseMetadata(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := md2.validate(DefaultHeaderSize, 1<<30); err != nil {
			t.Fatalf("rewritten metadata invalid: %v", err)
		}
		md2.segmentDigest()
		for id := range md2.Keyslots {
			md2.keyslotDigest(id)
		}
	})
}

// TestHostileMetadata: each mutation of a valid header must be refused by validation.
func TestHostileMetadata(t *testing.T) {
	real := realHeader(t, FormatOptions{})
	js := string(real[binHeaderSize:])
	js = js[:strings.IndexByte(js, 0)]
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal([]byte(js), &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	obj := func(m map[string]any, path ...string) map[string]any {
		for _, p := range path {
			m = m[p].(map[string]any)
		}
		return m
	}
	cases := map[string]func(m map[string]any){
		"area past keyslots end": func(m map[string]any) { obj(m, "keyslots", "0", "area")["offset"] = "16773120" },
		"area offset huge":       func(m map[string]any) { obj(m, "keyslots", "0", "area")["offset"] = "9223372036854775807" },
		"area in header":         func(m map[string]any) { obj(m, "keyslots", "0", "area")["offset"] = "4096" },
		"overlapping areas": func(m map[string]any) {
			obj(m, "keyslots", "3", "area")["offset"] = obj(m, "keyslots", "0", "area")["offset"]
		},
		"json_size":           func(m map[string]any) { obj(m, "config")["json_size"] = "4294967296" },
		"keyslots_size huge":  func(m map[string]any) { obj(m, "config")["keyslots_size"] = "9223372036854771712" },
		"argon memory absurd": func(m map[string]any) { obj(m, "keyslots", "3", "kdf")["memory"] = 1 << 40 },
		"argon time absurd":   func(m map[string]any) { obj(m, "keyslots", "3", "kdf")["time"] = 1 << 40 },
		"argon cpus zero":     func(m map[string]any) { obj(m, "keyslots", "3", "kdf")["cpus"] = 0 },
		"pbkdf2 iterations":   func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["iterations"] = 1 << 40 },
		"digest iterations":   func(m map[string]any) { obj(m, "digests", "0")["iterations"] = 0 },
		"zero stripes":        func(m map[string]any) { obj(m, "keyslots", "0", "af")["stripes"] = 0 },
		"key size":            func(m map[string]any) { obj(m, "keyslots", "0")["key_size"] = 1 << 30 },
		"salt huge":           func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["salt"] = strings.Repeat("A", 4096) },
		"segment offset 0":    func(m map[string]any) { obj(m, "segments", "0")["offset"] = "0" },
		"segment size bad":    func(m map[string]any) { obj(m, "segments", "0")["size"] = "-5" },
		"number not string":   func(m map[string]any) { obj(m, "segments", "0")["offset"] = 16777216 },
		"sector size":         func(m map[string]any) { obj(m, "segments", "0")["sector_size"] = 3 },
		"other cipher":        func(m map[string]any) { obj(m, "segments", "0")["encryption"] = "serpent-xts-plain64" },
		"integrity":           func(m map[string]any) { obj(m, "segments", "0")["integrity"] = map[string]any{"type": "hmac(sha256)"} },
		"reencrypt keyslot":   func(m map[string]any) { obj(m, "keyslots", "3")["type"] = "reencrypt" },
		"requirements": func(m map[string]any) {
			obj(m, "config")["requirements"] = map[string]any{"mandatory": []string{"online-reencrypt-v2"}}
		},
		"token missing keyslot": func(m map[string]any) { obj(m, "tokens", "0")["keyslots"] = []string{"9"} },
		"token no type":         func(m map[string]any) { delete(obj(m, "tokens", "0"), "type") },
		"digest missing slot":   func(m map[string]any) { obj(m, "digests", "0")["keyslots"] = []string{"0", "12"} },
		"keyslot id":            func(m map[string]any) { obj(m, "keyslots")["99"] = obj(m, "keyslots", "0") },
		"two segments":          func(m map[string]any) { obj(m, "segments")["1"] = obj(m, "segments", "0") },
		"no segments":           func(m map[string]any) { m["segments"] = map[string]any{} },
		"kdf type":              func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["type"] = "scrypt" },
	}
	for name, f := range cases {
		b := mutate(f)
		md, err := parseMetadata(b)
		if err == nil {
			err = md.validate(DefaultHeaderSize, 1<<30)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// and through Open, with a valid checksum: refused, no panic
		dev := &memDev{b: append([]byte(nil), real...)}
		copy(dev.b[binHeaderSize:DefaultHeaderSize], make([]byte, DefaultHeaderSize-binHeaderSize))
		copy(dev.b[binHeaderSize:], b)
		fixChecksum(dev.b)
		copy(dev.b[DefaultHeaderSize:2*DefaultHeaderSize], dev.b[:DefaultHeaderSize]) // both copies hostile
		copy(dev.b[DefaultHeaderSize:], magicSecondary)
		binary.BigEndian.PutUint64(dev.b[DefaultHeaderSize+offHdrOffset:], DefaultHeaderSize)
		sec := dev.b[DefaultHeaderSize : 2*DefaultHeaderSize]
		sum, _ := headerChecksum("sha256", sec)
		copy(sec[offCsum:], sum)
		if _, err := Open(dev, int64(len(dev.b))); err == nil {
			t.Errorf("%s: Open accepted", name)
		}
	}
}

func TestHostileBinaryHeader(t *testing.T) {
	real := realHeader(t, FormatOptions{})
	for name, f := range map[string]func(b []byte){
		"hdr_size huge":      func(b []byte) { binary.BigEndian.PutUint64(b[offHdrSize:], 1<<40) },
		"hdr_size odd":       func(b []byte) { binary.BigEndian.PutUint64(b[offHdrSize:], 20000) },
		"hdr_size too big":   func(b []byte) { binary.BigEndian.PutUint64(b[offHdrSize:], 4<<20) },
		"version 3":          func(b []byte) { b[offVersion+1] = 3 },
		"hdr_offset":         func(b []byte) { binary.BigEndian.PutUint64(b[offHdrOffset:], 512) },
		"checksum alg":       func(b []byte) { copy(b[offCsumAlg:], "md5\x00\x00\x00") },
		"garbage after json": func(b []byte) { b[DefaultHeaderSize-1] = 'x' },
	} {
		d := &memDev{b: append([]byte(nil), real...)}
		f(d.b)
		fixChecksum(d.b)
		// destroy the secondary so the primary alone decides
		copy(d.b[DefaultHeaderSize:], "XXXXXX")
		_, err := Open(d, int64(len(d.b)))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrBothHeadersBad) && !errors.Is(err, ErrNotLUKS) {
			t.Logf("%s: %v", name, err)
		}
	}
}
