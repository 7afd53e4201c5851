package luks

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func (o *FormatOptions) normalize(size int64) error {
	if o.KeySize == 0 {
		o.KeySize = DefaultKeySize
	}
	if !validXTSKeySize(o.KeySize) {
		return fmt.Errorf("key size %d bits: use 256 or 512", o.KeySize*8)
	}
	if o.SectorSize == 0 {
		o.SectorSize = DefaultSectorSize
	}
	switch o.SectorSize {
	case 512, 1024, 2048, 4096:
	default:
		return fmt.Errorf("sector size %d: use 512 or 4096", o.SectorSize)
	}
	if o.DataOffset == 0 {
		o.DataOffset = DefaultDataOffset
	}
	minOff := 2*int64(DefaultHeaderSize) + keyslotAreaSize(o.KeySize)
	if o.DataOffset%4096 != 0 || o.DataOffset < minOff {
		return fmt.Errorf("data offset %d: must be a multiple of 4096 and at least %d", o.DataOffset, minOff)
	}
	if size < o.DataOffset+int64(o.SectorSize) {
		return fmt.Errorf("device is %d bytes, too small: a LUKS2 volume needs at least %d bytes (%d MiB header and keyslots plus one sector)",
			size, o.DataOffset+int64(o.SectorSize), o.DataOffset>>20)
	}
	if len(o.Label) > labelLen-1 || len(o.Subsystem) > labelLen-1 {
		return fmt.Errorf("label and subsystem are at most %d bytes", labelLen-1)
	}
	if o.UUID == "" {
		u, err := newUUID()
		if err != nil {
			return err
		}
		o.UUID = u
	} else if !uuidRE.MatchString(o.UUID) {
		return fmt.Errorf("UUID %q is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", o.UUID)
	}
	if o.VolumeKey != nil && len(o.VolumeKey) != o.KeySize {
		return fmt.Errorf("volume key is %d bytes, the key size is %d bytes", len(o.VolumeKey), o.KeySize)
	}
	if o.Keyslot < 0 || o.Keyslot >= MaxKeyslots {
		return fmt.Errorf("keyslot %d: slots are 0..%d", o.Keyslot, MaxKeyslots-1)
	}
	return nil
}

// Format creates a LUKS2 volume on the first size bytes of dev, with one keyslot for pass,
// and returns it opened with its volume key. Everything before the data offset is
// overwritten; the payload is left as it is (wipe it separately if needed).
//
// The KDF is calibrated (or checked) before anything is written, so a bad option
// changes nothing on the device.
func Format(dev Device, size int64, pass []byte, opt FormatOptions) (*Container, *VolumeKey, error) {
	if len(pass) == 0 {
		return nil, nil, errors.New("empty passphrase")
	}
	if err := opt.normalize(size); err != nil {
		return nil, nil, err
	}
	kd, err := opt.PBKDF.resolve(opt.KeySize)
	if err != nil {
		return nil, nil, err
	}
	// From here on the KDF costs are fixed; sealKeyslot will not calibrate again.
	fixed := PBKDF{Type: kd.Type, Hash: kd.Hash, MemoryKiB: uint32(kd.Memory), Parallel: uint32(kd.CPUs)}
	if kd.Type == "pbkdf2" {
		fixed.Iterations = uint32(kd.Iterations)
	} else {
		fixed.Iterations = uint32(kd.Time)
	}

	vk := &VolumeKey{b: make([]byte, opt.KeySize)}
	if opt.VolumeKey != nil {
		copy(vk.b, opt.VolumeKey)
	} else if _, err := rand.Read(vk.b); err != nil {
		return nil, nil, err
	}
	hdrSize := int64(DefaultHeaderSize)
	slot := strconv.Itoa(opt.Keyslot)
	dg, err := newDigest(vk.b, []string{slot}, []string{"0"})
	if err != nil {
		vk.Wipe()
		return nil, nil, err
	}
	md := &metadata{
		Keyslots: map[string]*keyslot{},
		Tokens:   map[string]json.RawMessage{},
		Segments: map[string]*segment{"0": {
			Type: "crypt", Offset: u64s(opt.DataOffset), Size: "dynamic", IVTweak: 0,
			Encryption: "aes-xts-plain64", SectorSize: opt.SectorSize,
		}},
		Digests: map[string]*digest{"0": dg},
		Config:  config{JSONSize: u64s(hdrSize - binHeaderSize), KeyslotsSize: u64s(opt.DataOffset - 2*hdrSize)},
	}
	areaOff := 2 * hdrSize
	ks, material, err := sealKeyslot(vk.b, pass, fixed, areaOff, keyslotAreaSize(opt.KeySize))
	if err != nil {
		vk.Wipe()
		return nil, nil, err
	}
	md.Keyslots[slot] = ks
	if err := md.validate(hdrSize, size); err != nil {
		vk.Wipe()
		return nil, nil, fmt.Errorf("internal error: new metadata is invalid: %w", err)
	}

	// Clear the header and keyslots area (old headers, old keyslots), then write the
	// keyslot, then both header copies.
	zero := make([]byte, 1<<20)
	for off := int64(0); off < opt.DataOffset; off += int64(len(zero)) {
		n := min(int64(len(zero)), opt.DataOffset-off)
		if _, err := dev.WriteAt(zero[:n], off); err != nil {
			vk.Wipe()
			return nil, nil, fmt.Errorf("writing the header area: %w", err)
		}
	}
	if _, err := dev.WriteAt(material, areaOff); err != nil {
		vk.Wipe()
		return nil, nil, fmt.Errorf("writing keyslot %s: %w", slot, err)
	}
	c := &Container{dev: dev, size: size, secOff: hdrSize, md: md}
	c.bin = binHeader{hdrSize: uint64(hdrSize), seqid: 0, label: opt.Label, csumAlg: "sha256",
		uuid: opt.UUID, subsystem: opt.Subsystem}
	if err := c.commit(md); err != nil {
		vk.Wipe()
		return nil, nil, err
	}
	return c, vk, nil
}
