package luks

import (
	"errors"
	"fmt"
	"testing"
)

// Validate is the one place the KDF bounds live: each bad option is named by field, and
// Format refuses what Validate refuses, with the same typed error.
func TestKDFValidate(t *testing.T) {
	for _, p := range []PBKDF{
		{},
		{Type: "argon2id", Iterations: 4, MemoryKiB: 32, Parallel: 4},
		{Type: "argon2i", Iterations: 1000, MemoryKiB: MaxMemoryKiB, Parallel: 255, MaxMemoryKiB: 32},
		{Type: "pbkdf2", Hash: "sha512", Iterations: 1000},
		{Type: "pbkdf2", Iterations: maxPBKDF2Iter},
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	for _, c := range []struct {
		p      PBKDF
		fields []KDFField
	}{
		{PBKDF{Type: "scrypt"}, []KDFField{KDFType}},
		{PBKDF{Type: "argon2id", Iterations: 3}, []KDFField{KDFIterations}},
		{PBKDF{Type: "argon2id", Iterations: 1001}, []KDFField{KDFIterations}},
		{PBKDF{MemoryKiB: 31}, []KDFField{KDFMemory}},
		{PBKDF{MemoryKiB: MaxMemoryKiB + 1}, []KDFField{KDFMemory}},
		{PBKDF{Parallel: 256}, []KDFField{KDFParallel}},
		{PBKDF{Parallel: 8, MemoryKiB: 32}, []KDFField{KDFMemory}},
		{PBKDF{MaxMemoryKiB: MaxMemoryKiB + 1}, []KDFField{KDFMaxMemory}},
		{PBKDF{Hash: "sha256"}, []KDFField{KDFHash}},
		{PBKDF{Type: "pbkdf2", Iterations: 999}, []KDFField{KDFIterations}},
		{PBKDF{Type: "pbkdf2", Iterations: maxPBKDF2Iter + 1}, []KDFField{KDFIterations}},
		{PBKDF{Type: "pbkdf2", Hash: "sha1"}, []KDFField{KDFHash}},
		{PBKDF{Type: "pbkdf2", MemoryKiB: 64, Parallel: 2}, []KDFField{KDFMemory, KDFParallel}},
		{PBKDF{Type: "argon2i", Iterations: 1, MemoryKiB: 8}, []KDFField{KDFIterations, KDFMemory}},
	} {
		errs := KDFErrors(c.p.Validate())
		var got []KDFField
		for _, e := range errs {
			got = append(got, e.Field)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.fields) {
			t.Errorf("%+v: fields %v, want %v (%v)", c.p, got, c.fields, c.p.Validate())
			continue
		}
		d := newMemDev(testSize)
		_, _, err := Format(d, testSize, []byte("p"), FormatOptions{PBKDF: c.p})
		var ke *KDFError
		if !errors.As(err, &ke) || ke.Field != c.fields[0] {
			t.Errorf("%+v: Format: %v, want a KDFError about %s", c.p, err, c.fields[0])
		}
	}
	// Wrapped, the errors are still found.
	if errs := KDFErrors(fmt.Errorf("adding a keyslot: %w", PBKDF{Type: "pbkdf2", MemoryKiB: 1, Parallel: 1}.Validate())); len(errs) != 2 {
		t.Errorf("KDFErrors through a wrap: %v", errs)
	}
}
