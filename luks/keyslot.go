package luks

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"sync/atomic"

	"travelkit/luks/internal/xts"
)

// Keyslot areas are encrypted with aes-xts-plain64 in 512-byte sectors, IVs counting from 0
// at the start of the area, keyed by the KDF output.
const keyslotSector = 512

// openKeyslot decrypts a keyslot's area with the passphrase and merges the AF stripes.
// The result is a candidate volume key; the caller checks it against the digest.
func openKeyslot(dev io.ReaderAt, devSize int64, k *keyslot, pass []byte) ([]byte, error) {
	n := k.KeySize * k.AF.Stripes
	matLen := (int64(n) + keyslotSector - 1) / keyslotSector * keyslotSector
	off := int64(k.Area.Offset)
	if off+matLen > devSize {
		return nil, fmt.Errorf("keyslot area at %d extends past the end of the device (%d bytes): the device is truncated", off, devSize)
	}
	material := make([]byte, matLen)
	if _, err := dev.ReadAt(material, off); err != nil {
		return nil, fmt.Errorf("reading keyslot area at %d: %w", off, err)
	}
	dk, err := k.KDF.derive(pass, k.Area.KeySize)
	if err != nil {
		return nil, err
	}
	c, err := xts.New(dk)
	clear(dk)
	if err != nil {
		return nil, err
	}
	c.DecryptSectors(material, material, keyslotSector, 0, 1)
	c.Wipe()
	h, err := hashFunc(k.AF.Hash)
	if err != nil {
		return nil, err
	}
	vk := afMerge(material[:n], k.KeySize, k.AF.Stripes, h)
	clear(material)
	return vk, nil
}

// sealKeyslot builds a keyslot for vk under pass at the given area, and the encrypted area bytes.
func sealKeyslot(vk, pass []byte, p PBKDF, off, areaSize int64) (*keyslot, []byte, error) {
	kd, err := p.resolve(len(vk))
	if err != nil {
		return nil, nil, err
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, nil, err
	}
	kd.Salt = base64.StdEncoding.EncodeToString(salt)
	ks := &keyslot{
		Type:    "luks2",
		KeySize: len(vk),
		AF:      af{Type: "luks1", Stripes: luksStripes, Hash: "sha256"},
		Area:    area{Type: "raw", Offset: u64s(off), Size: u64s(areaSize), Encryption: "aes-xts-plain64", KeySize: len(vk)},
		KDF:     kd,
	}
	h, _ := hashFunc(ks.AF.Hash)
	split, err := afSplit(vk, luksStripes, h)
	if err != nil {
		return nil, nil, err
	}
	material := make([]byte, areaSize)
	copy(material, split)
	clear(split)
	// The tail of the area past the stripes gets random bytes, as an attacker should not
	// learn where the material ends.
	if _, err := rand.Read(material[len(vk)*luksStripes:]); err != nil {
		return nil, nil, err
	}
	dk, err := ks.KDF.derive(pass, ks.Area.KeySize)
	if err != nil {
		return nil, nil, err
	}
	c, err := xts.New(dk)
	clear(dk)
	if err != nil {
		return nil, nil, err
	}
	matLen := (len(vk)*luksStripes + keyslotSector - 1) / keyslotSector * keyslotSector
	c.EncryptSectors(material[:matLen], material[:matLen], keyslotSector, 0, 1)
	c.Wipe()
	return ks, material, nil
}

// verify checks a candidate volume key against the digest in constant time.
func (d *digest) verify(vk []byte) (bool, error) { return d.verifyStop(vk, nil) }

// verifyStop is verify that gives up with errStopped once stop is set (stop may be nil).
func (d *digest) verifyStop(vk []byte, stop *atomic.Bool) (bool, error) {
	salt, err := base64.StdEncoding.DecodeString(d.Salt)
	if err != nil {
		return false, fmt.Errorf("digest salt: %v", err)
	}
	want, err := base64.StdEncoding.DecodeString(d.Digest)
	if err != nil {
		return false, fmt.Errorf("digest value: %v", err)
	}
	h, err := hashFunc(d.Hash)
	if err != nil {
		return false, err
	}
	got, err := pbkdf2KeyStop(h, vk, salt, d.Iterations, len(want), stop)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// newDigest creates the pbkdf2 digest of a volume key.
func newDigest(vk []byte, keyslots, segments []string) (*digest, error) {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	h, _ := hashFunc("sha256")
	iter := digestIterations(h, 32)
	sum, err := pbkdf2Key(h, vk, salt, iter, 32)
	if err != nil {
		return nil, err
	}
	return &digest{Type: "pbkdf2", Keyslots: keyslots, Segments: segments, Hash: "sha256",
		Iterations: iter, Salt: base64.StdEncoding.EncodeToString(salt), Digest: base64.StdEncoding.EncodeToString(sum)}, nil
}
