package luks

import (
	"testing"
	"time"
)

// Resolve gives the costs a keyslot made from its result carries: explicit costs as they
// are, calibrated ones measured once, before anything is written.
func TestPBKDFResolve(t *testing.T) {
	explicit := PBKDF{Type: "argon2id", Iterations: 4, MemoryKiB: 64, Parallel: 2}
	got, err := explicit.Resolve(64)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != "argon2id" || got.Iterations != 4 || got.MemoryKiB != 64 || got.Parallel != 2 {
		t.Errorf("explicit costs changed: %+v", got)
	}
	cal, err := PBKDF{IterTime: 20 * time.Millisecond, MaxMemoryKiB: 8 << 10}.Resolve(64)
	if err != nil {
		t.Fatal(err)
	}
	if cal.Type != "argon2id" || cal.Iterations < minArgonTime || cal.MemoryKiB == 0 || cal.MemoryKiB > 8<<10 || cal.Parallel == 0 {
		t.Errorf("calibrated costs: %+v", cal)
	}
	d := newMemDev(testSize)
	c, _, err := Format(d, testSize, []byte("p"), FormatOptions{PBKDF: cal})
	if err != nil {
		t.Fatal(err)
	}
	k := c.Keyslots()[0].PBKDF
	if k.Iterations != cal.Iterations || k.MemoryKiB != cal.MemoryKiB || k.Parallel != cal.Parallel {
		t.Errorf("keyslot 0 has %+v, Resolve said %+v", k, cal)
	}
	p2, err := PBKDF{Type: "pbkdf2", Iterations: 1000}.Resolve(64)
	if err != nil || p2.Hash != "sha256" || p2.Iterations != 1000 {
		t.Errorf("pbkdf2: %+v %v", p2, err)
	}
	if _, err := (PBKDF{Type: "scrypt"}).Resolve(64); err == nil {
		t.Error("an unknown type was resolved")
	}
}
