package xts

//go:generate go -C _asm run ./amd64 -out ../xts_amd64.s
//go:generate go -C _asm run ./arm64 -out ../xts_arm64.s

import (
	"crypto/aes"
	"fmt"
	"unsafe"

	"golang.org/x/crypto/xts"
)

// keys is the expanded key material the assembly reads. Its layout is fixed: the
// assembly uses the offsets below (checked by a test).
type keys struct {
	enc1 [15 * 16]byte // data key, encryption round keys
	dec1 [15 * 16]byte // data key, decryption round keys for AESDEC (equivalent inverse cipher)
	enc2 [15 * 16]byte // tweak key, encryption round keys
	nr   int64         // rounds: 10 (AES-128) or 14 (AES-256)
}

const (
	offEnc1 = 0
	offDec1 = 240
	offEnc2 = 480
	offNR   = 720
)

// Cipher is AES-XTS with one key pair. It is safe for concurrent use by several
// goroutines as long as Wipe is not called concurrently.
type Cipher struct {
	k *keys
	// portable is the path used where no assembly applies (and by tests).
	portable *xts.Cipher
}

// New takes the XTS key: 32 bytes (AES-128-XTS, a "256-bit key" in cryptsetup terms)
// or 64 bytes (AES-256-XTS, "512-bit"). The first half is the data key, the second
// half the tweak key. The key is copied.
func New(key []byte) (*Cipher, error) {
	if len(key) != 32 && len(key) != 64 {
		return nil, fmt.Errorf("xts: key is %d bytes; want 32 (AES-128-XTS) or 64 (AES-256-XTS)", len(key))
	}
	half := len(key) / 2
	k1, k2 := key[:half], key[half:]
	c := &Cipher{k: new(keys)}
	c.k.nr = int64(expandKey(c.k.enc1[:], k1))
	expandKey(c.k.enc2[:], k2)
	invertKey(c.k.dec1[:], c.k.enc1[:], int(c.k.nr))
	var err error
	if c.portable, err = xts.NewCipher(aes.NewCipher, key); err != nil {
		return nil, fmt.Errorf("xts: %w", err)
	}
	return c, nil
}

// EncryptSectors encrypts src into dst. dst and src may be the same buffer (exactly)
// but must not otherwise overlap; dst must be at least as long as src. len(src) must
// be a multiple of sectorSize, which must be a positive multiple of 16 (LUKS2 uses
// 512 or 4096). Sector i of the buffer uses the plain64 IV tweak + uint64(i)*tweakStep
// (wrapping at 2^64). Misuse panics.
func (c *Cipher) EncryptSectors(dst, src []byte, sectorSize int, tweak, tweakStep uint64) {
	c.do(dst, src, sectorSize, tweak, tweakStep, false)
}

// DecryptSectors decrypts src into dst; the rules are those of EncryptSectors.
func (c *Cipher) DecryptSectors(dst, src []byte, sectorSize int, tweak, tweakStep uint64) {
	c.do(dst, src, sectorSize, tweak, tweakStep, true)
}

// Wipe zeroes the expanded round keys and drops the portable path's cipher (whose
// internal copies crypto/aes does not let us clear). The Cipher is unusable afterwards.
func (c *Cipher) Wipe() {
	if c.k != nil {
		clear(c.k.enc1[:])
		clear(c.k.dec1[:])
		clear(c.k.enc2[:])
		c.k.nr = 0
		c.k = nil
	}
	c.portable = nil
}

func (c *Cipher) do(dst, src []byte, sectorSize int, tweak, step uint64, decrypt bool) {
	if c.k == nil {
		panic("xts: Cipher used after Wipe")
	}
	if sectorSize < 16 || sectorSize%16 != 0 {
		panic(fmt.Sprintf("xts: sector size %d is not a positive multiple of 16", sectorSize))
	}
	if len(src)%sectorSize != 0 {
		panic(fmt.Sprintf("xts: input of %d bytes is not a whole number of %d-byte sectors", len(src), sectorSize))
	}
	if len(dst) < len(src) {
		panic(fmt.Sprintf("xts: output buffer of %d bytes is shorter than the %d-byte input", len(dst), len(src)))
	}
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	if inexactOverlap(dst, src) {
		panic("xts: output and input buffers overlap but are not the same")
	}
	// Assembly functions cannot be preempted: hand them at most maxChunk bytes (but at
	// least one sector) at a time, so that a huge buffer does not stall the scheduler
	// or the garbage collector.
	perCall := max(1, maxChunk/sectorSize)
	for len(src) > 0 {
		n := min(perCall, len(src)/sectorSize)
		d, s := dst[:n*sectorSize], src[:n*sectorSize]
		if !cryptAsm(c.k, d, s, n, sectorSize, tweak, step, decrypt) {
			c.cryptPortable(d, s, sectorSize, tweak, step, decrypt)
		}
		dst, src = dst[n*sectorSize:], src[n*sectorSize:]
		tweak += uint64(n) * step
	}
}

// maxChunk bounds the bytes per assembly call: 256 KiB is about 100 µs on the AES-NI
// path and much less on the VAES paths.
const maxChunk = 256 << 10

func inexactOverlap(x, y []byte) bool {
	px := uintptr(unsafe.Pointer(unsafe.SliceData(x)))
	py := uintptr(unsafe.Pointer(unsafe.SliceData(y)))
	if px == py {
		return false
	}
	return px < py+uintptr(len(y)) && py < px+uintptr(len(x))
}
