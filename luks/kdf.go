package luks

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

func hashFunc(name string) (func() hash.Hash, error) {
	switch name {
	case "sha1":
		return sha1.New, nil
	case "sha256":
		return sha256.New, nil
	case "sha512":
		return sha512.New, nil
	}
	return nil, &UnsupportedError{What: fmt.Sprintf("hash %q", name)}
}

// derive runs a keyslot's KDF on the passphrase. The kdf was validated when parsed.
func (k *kdf) derive(pass []byte, keyLen int) ([]byte, error) {
	salt, err := base64.StdEncoding.DecodeString(k.Salt)
	if err != nil {
		return nil, fmt.Errorf("kdf salt: %v", err)
	}
	switch k.Type {
	case "pbkdf2":
		h, err := hashFunc(k.Hash)
		if err != nil {
			return nil, err
		}
		return pbkdf2Key(h, pass, salt, k.Iterations, keyLen)
	case "argon2i", "argon2id":
		if avail := availableMemory(); avail > 0 && uint64(k.Memory) > avail {
			return nil, &MemoryError{NeedKiB: uint64(k.Memory), AvailableKiB: avail}
		}
		f := argon2.IDKey
		if k.Type == "argon2i" {
			f = argon2.Key
		}
		key := f(pass, salt, uint32(k.Time), uint32(k.Memory), uint8(k.CPUs), uint32(keyLen))
		if k.Memory >= 64<<10 {
			// Hand the derivation's memory back now, not at the next collection: the
			// next keyslot tried asks for as much again (two 4 GiB keyslots peaked at
			// 8 GiB), and the available memory it is checked against must be true.
			debug.FreeOSMemory()
		}
		return key, nil
	}
	return nil, &UnsupportedError{What: fmt.Sprintf("key derivation %q", k.Type)}
}

// pbkdf2Key is PBKDF2 (RFC 8018) over HMAC. It is written out here rather than taken from
// crypto/pbkdf2 because that one takes the password as a string, a copy that cannot be wiped.
func pbkdf2Key(h func() hash.Hash, pass, salt []byte, iter, keyLen int) ([]byte, error) {
	return pbkdf2KeyStop(h, pass, salt, iter, keyLen, nil)
}

// errStopped: a PBKDF2 given up half way because its answer was no longer needed.
var errStopped = errors.New("luks: key check stopped: the key was proven otherwise")

// pbkdf2KeyStop is pbkdf2Key that gives up with errStopped (every 1,024 iterations it
// looks) once stop is set; stop may be nil.
func pbkdf2KeyStop(h func() hash.Hash, pass, salt []byte, iter, keyLen int, stop *atomic.Bool) ([]byte, error) {
	prf := hmac.New(h, pass)
	hl := prf.Size()
	out := make([]byte, 0, (keyLen+hl-1)/hl*hl)
	u := make([]byte, 0, hl)
	t := make([]byte, hl)
	var ctr [4]byte
	for block := uint32(1); len(out) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		binary.BigEndian.PutUint32(ctr[:], block)
		prf.Write(ctr[:])
		u = prf.Sum(u[:0])
		copy(t, u)
		for i := 1; i < iter; i++ {
			if i&1023 == 0 && stop != nil && stop.Load() {
				clear(u[:hl])
				clear(t)
				clear(out[:cap(out)])
				return nil, errStopped
			}
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	clear(u[:hl])
	clear(t)
	clear(out[keyLen:cap(out)])
	return out[:keyLen], nil
}

// Calibration ---------------------------------------------------------------------------

// minimum costs of new keyslots, as cryptsetup enforces them
const (
	minPBKDF2Iter     = 1000
	minArgonTime      = 4
	digestIterTime    = 125 * time.Millisecond
	calibrationSample = 80 * time.Millisecond
)

// KDFField names the PBKDF option a KDFError is about.
type KDFField string

// The options of a PBKDF that Validate checks.
const (
	KDFType       KDFField = "type"
	KDFHash       KDFField = "hash"
	KDFIterations KDFField = "iterations"
	KDFMemory     KDFField = "memory"
	KDFParallel   KDFField = "parallel"
	KDFMaxMemory  KDFField = "max memory"
)

// KDFError is a PBKDF option out of bounds. Msg starts with the value when there is one
// ("1: argon2 passes must be 4 to 1000"); a caller puts its own name for Field in front
// (a profile key, a flag).
type KDFError struct {
	Field KDFField
	Msg   string
}

func (e *KDFError) Error() string { return "pbkdf " + string(e.Field) + ": " + e.Msg }

// Validate checks the options of a new keyslot's key derivation against the bounds
// cryptsetup enforces for new keyslots (pbkdf2: at least 1000 iterations; argon2: at least
// 4 passes and 32 KiB, 8 KiB per lane) and those travelkit reads back from a header. Zero
// costs are valid: they are calibrated. It returns nil or every problem, each a *KDFError
// (joined: see KDFErrors). Format, AddKeyslot and ChangePassphrase call it; callers that
// name the options differently (a profile, flags) call it first to translate its errors.
func (p PBKDF) Validate() error {
	var errs []error
	bad := func(f KDFField, format string, a ...any) {
		errs = append(errs, &KDFError{Field: f, Msg: fmt.Sprintf(format, a...)})
	}
	switch p.Type {
	case "", "argon2id", "argon2i":
		if it := p.Iterations; it != 0 && (it < minArgonTime || it > maxArgonTime) {
			bad(KDFIterations, "%d: argon2 passes must be %d to %d", it, minArgonTime, maxArgonTime)
		}
		if m := p.MemoryKiB; m != 0 && (m < minArgonMemoryKiB || m > MaxMemoryKiB) {
			bad(KDFMemory, "%d: argon2 memory must be %d to %d KiB", m, minArgonMemoryKiB, MaxMemoryKiB)
		}
		if par := p.Parallel; par > maxArgonParallel {
			bad(KDFParallel, "%d: argon2 lanes must be 1 to %d", par, maxArgonParallel)
		} else if par != 0 && p.MemoryKiB >= minArgonMemoryKiB && p.MemoryKiB < 8*par {
			bad(KDFMemory, "%d KiB: argon2 needs at least 8 KiB per lane (%d KiB)", p.MemoryKiB, 8*par)
		}
		if m := p.MaxMemoryKiB; m != 0 && (m < minArgonMemoryKiB || m > MaxMemoryKiB) {
			bad(KDFMaxMemory, "%d: the argon2 memory cap must be %d to %d KiB", m, minArgonMemoryKiB, MaxMemoryKiB)
		}
		if p.Hash != "" {
			bad(KDFHash, "%q: argon2 takes no hash (it is for pbkdf2)", p.Hash)
		}
	case "pbkdf2":
		switch p.Hash {
		case "", "sha256", "sha512":
		default:
			bad(KDFHash, "%q: use sha256 or sha512", p.Hash)
		}
		if it := p.Iterations; it != 0 && (it < minPBKDF2Iter || it > maxPBKDF2Iter) {
			bad(KDFIterations, "%d: pbkdf2 iterations must be %d to %d", it, minPBKDF2Iter, maxPBKDF2Iter)
		}
		if p.MemoryKiB != 0 {
			bad(KDFMemory, "pbkdf2 has no memory cost: remove it or use argon2id")
		}
		if p.Parallel != 0 {
			bad(KDFParallel, "pbkdf2 has no parallel cost: remove it or use argon2id")
		}
	default:
		bad(KDFType, "%q: use argon2id, argon2i or pbkdf2", p.Type)
	}
	return errors.Join(errs...)
}

// KDFErrors returns the KDFErrors in an error of Validate (or of Format, AddKeyslot and
// ChangePassphrase), in order; none for other errors.
func KDFErrors(err error) []*KDFError {
	switch e := err.(type) {
	case nil:
		return nil
	case *KDFError:
		return []*KDFError{e}
	case interface{ Unwrap() []error }:
		var out []*KDFError
		for _, x := range e.Unwrap() {
			out = append(out, KDFErrors(x)...)
		}
		return out
	case interface{ Unwrap() error }:
		return KDFErrors(e.Unwrap())
	}
	return nil
}

// availableMemory reports the memory available for a key derivation in KiB, or 0 when
// unknown (tests replace it).
var availableMemory = availableMemoryKiB

// totalMemoryKiB reports the machine's physical memory in KiB, or 0 when unknown.
var totalMemoryKiB = func() uint64 { return physicalMemoryKiB() }

// resolve turns the caller's PBKDF into concrete costs, calibrating what was left at zero.
// The result is ready to store in a keyslot.
func (p PBKDF) resolve(keyLen int) (kdf, error) {
	if err := p.Validate(); err != nil {
		return kdf{}, err
	}
	if p.Type == "" {
		p.Type = "argon2id"
	}
	target := p.IterTime
	if target <= 0 {
		target = DefaultIterTime
	}
	switch p.Type {
	case "pbkdf2":
		if p.Hash == "" {
			p.Hash = "sha256"
		}
		h, err := hashFunc(p.Hash)
		if err != nil {
			return kdf{}, err
		}
		iter := int(p.Iterations)
		if iter == 0 {
			iter = calibratePBKDF2(h, keyLen, target) // within the bounds of Validate
		}
		return kdf{Type: "pbkdf2", Hash: p.Hash, Iterations: iter}, nil
	case "argon2i", "argon2id":
		par := int(p.Parallel)
		if par == 0 {
			par = min(4, runtime.NumCPU())
		}
		mem, t := int(p.MemoryKiB), int(p.Iterations)
		if mem == 0 || t == 0 {
			capKiB := int(p.MaxMemoryKiB)
			if capKiB == 0 {
				capKiB = DefaultMaxMemoryKiB
			}
			if phys := totalMemoryKiB(); phys > 0 && uint64(capKiB) > phys/2 {
				capKiB = int(phys / 2)
			}
			if mem != 0 && mem < capKiB {
				capKiB = mem
			}
			// calibrated within the bounds of Validate: at least 4 passes, memory between
			// the floor (32 KiB, 8 KiB a lane) and the cap
			mem, t = calibrateArgon2(p.Type, par, capKiB, t, target, keyLen)
		}
		if mem < 8*par {
			// fixed memory with calibrated lanes (min(4, CPUs)): Validate saw no lanes
			return kdf{}, &KDFError{Field: KDFMemory, Msg: fmt.Sprintf("%d KiB: argon2 needs at least 8 KiB per lane (%d KiB)", mem, 8*par)}
		}
		return kdf{Type: p.Type, Time: t, Memory: mem, CPUs: par}, nil
	}
	return kdf{}, &KDFError{Field: KDFType, Msg: fmt.Sprintf("%q: use argon2id, argon2i or pbkdf2", p.Type)}
}

// measure runs f and returns how long it would take on an otherwise idle machine using
// `threads` cores: the process CPU time divided by the threads that can run at once, or
// the wall time where CPU time is unavailable.
func measure(threads int, f func()) time.Duration {
	c0, w0 := cpuTime(), time.Now()
	f()
	wall := time.Since(w0)
	if c0 == 0 {
		return wall
	}
	cpu := cpuTime() - c0
	if cpu <= 0 {
		return wall
	}
	return cpu / time.Duration(max(1, min(threads, runtime.NumCPU())))
}

// calibratePBKDF2 finds the iteration count that takes about target on this machine.
func calibratePBKDF2(h func() hash.Hash, keyLen int, target time.Duration) int {
	salt := make([]byte, 32)
	iter := 1000
	for {
		el := measure(1, func() { pbkdf2Key(h, []byte("calibration"), salt, iter, keyLen) })
		if el >= calibrationSample || iter >= maxPBKDF2Iter/4 {
			n := int(float64(iter) * float64(target) / float64(el))
			return max(minPBKDF2Iter, min(n, maxPBKDF2Iter))
		}
		iter *= 4
	}
}

// calibrateArgon2 picks memory and passes for about target, the way cryptsetup does:
// memory as high as allowed, at least 4 passes, less memory when 4 passes at the cap
// are too slow, more passes only when the memory is at the cap. With fixedTime > 0 only
// the memory is calibrated.
//
// The cost model is memory * (fixed + passes * perPass): besides the passes, every
// derivation pays for allocating and first touching its memory, which on some machines
// costs more than a pass. Each measured run starts from memory returned to the OS, as a
// real unlock in a fresh process does.
func calibrateArgon2(typ string, par, capKiB, fixedTime int, target time.Duration, keyLen int) (mem, t int) {
	salt := make([]byte, 32)
	run := func(m, t int) float64 {
		k := kdf{Type: typ, Time: t, Memory: m, CPUs: par, Salt: base64.StdEncoding.EncodeToString(salt)}
		debug.FreeOSMemory()
		return float64(measure(par, func() { k.derive([]byte("calibration"), keyLen) }))
	}
	floor := max(minArgonMemoryKiB, 8*par)
	// Grow the sample until one pass is long enough to trust.
	m := max(floor, 1024)
	for {
		if run(min(m, capKiB), 1) >= float64(calibrationSample) || m >= capKiB {
			break
		}
		m *= 4
	}
	m = min(m, capKiB)
	// One pass and two passes separate the per-pass cost from the fixed cost.
	e1, e2 := run(m, 1), run(m, 2)
	perPass := max(e2-e1, e1/4) / float64(m) // per KiB
	fixed := max(0, e1/float64(m)-perPass)   // per KiB
	want := float64(target)
	if fixedTime > 0 {
		mem = int(want / (fixed + perPass*float64(fixedTime)))
		return max(min(mem, capKiB), floor), fixedTime
	}
	t = minArgonTime
	mem = int(want / (fixed + perPass*float64(t)))
	if mem > capKiB {
		mem = capKiB
		t = int((want/float64(mem)-fixed)/perPass + 0.5)
		t = max(minArgonTime, min(t, maxArgonTime))
	}
	return max(mem, floor), t
}

// digestIterations calibrates the volume key digest's pbkdf2 iterations (cryptsetup: 125 ms, at least 1000).
func digestIterations(h func() hash.Hash, size int) int {
	return calibratePBKDF2(h, size, digestIterTime)
}

// Resolve returns p with every cost that was left at zero calibrated on this machine, as
// Format and AddKeyslot would do it for a key of keyLen bytes: a keyslot made with the
// result carries exactly these costs, known before it is made (to judge a passphrase
// against them, say).
func (p PBKDF) Resolve(keyLen int) (PBKDF, error) {
	k, err := p.resolve(keyLen)
	if err != nil {
		return PBKDF{}, err
	}
	out := PBKDF{Type: k.Type, Hash: k.Hash, IterTime: p.IterTime, MaxMemoryKiB: p.MaxMemoryKiB}
	if k.Type == "pbkdf2" {
		out.Iterations = uint32(k.Iterations)
	} else {
		out.Iterations, out.MemoryKiB, out.Parallel = uint32(k.Time), uint32(k.Memory), uint32(k.CPUs)
	}
	return out, nil
}
