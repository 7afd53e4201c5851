package luks

// Temporary stubs: the API the CLI is written against. Replaced file by file.

import (
	"encoding/json"
	"errors"
)

var errTODO = errors.New("luks: not implemented yet")

// Container is an opened LUKS2 header pair on a device.
type Container struct{}

// KeyslotInfo describes one keyslot for dumps and managers.
type KeyslotInfo struct {
	ID       int
	Type     string
	KeySize  int // bytes
	Priority int // 0 ignore, 1 normal, 2 prefer
	PBKDF    PBKDF
	Tokens   []int // tokens naming this keyslot
}

// Token is one LUKS2 token: its id, type, the keyslots it names and its whole JSON.
type Token struct {
	ID       int
	Type     string
	Keyslots []int
	JSON     json.RawMessage
}

// HeaderState reports the state of both header copies as found by Open.
type HeaderState struct {
	PrimaryErr   error // nil when the primary copy is valid
	SecondaryErr error
	UsedCopy     string // "primary" or "secondary"
	InSync       bool   // both valid with the same seqid and metadata
}

// VolumeKey is a volume (master) key. Wipe it when done.
type VolumeKey struct{ b []byte }

// Bytes returns the key; do not keep it past Wipe.
func (k *VolumeKey) Bytes() []byte { return k.b }

// Wipe zeroes the key.
func (k *VolumeKey) Wipe() { clear(k.b) }

// NewVolumeKey wraps a copy of b.
func NewVolumeKey(b []byte) *VolumeKey { return &VolumeKey{append([]byte(nil), b...)} }

// Volume is the decrypted payload of an unlocked container.
type Volume struct{}

func Format(dev Device, size int64, passphrase []byte, opt FormatOptions) (*Container, *VolumeKey, error) {
	return nil, nil, errTODO
}
func Open(dev Device, size int64) (*Container, error)                     { return nil, errTODO }
func (c *Container) UUID() string                                         { return "" }
func (c *Container) Label() string                                        { return "" }
func (c *Container) Subsystem() string                                    { return "" }
func (c *Container) SectorSize() int                                      { return 0 }
func (c *Container) KeySize() int                                         { return 0 }
func (c *Container) Cipher() string                                       { return "" }
func (c *Container) DataOffset() int64                                    { return 0 }
func (c *Container) PayloadSize() int64                                   { return 0 }
func (c *Container) HeaderSize() int64                                    { return 0 }
func (c *Container) Seqid() uint64                                        { return 0 }
func (c *Container) State() HeaderState                                   { return HeaderState{} }
func (c *Container) MetadataJSON() []byte                                 { return nil }
func (c *Container) Keyslots() []KeyslotInfo                              { return nil }
func (c *Container) Tokens() []Token                                      { return nil }
func (c *Container) Unlock(pass []byte) (*VolumeKey, int, error)          { return nil, -1, errTODO }
func (c *Container) UnlockSlot(pass []byte, slot int) (*VolumeKey, error) { return nil, errTODO }
func (c *Container) CheckVolumeKey(vk *VolumeKey) error                   { return errTODO }
func (c *Container) AddKeyslot(vk *VolumeKey, pass []byte, slot int, p PBKDF) (int, error) {
	return -1, errTODO
}
func (c *Container) RemoveKeyslot(slot int, force bool) error { return errTODO }
func (c *Container) ChangePassphrase(old, new []byte, slot int, p PBKDF) (int, error) {
	return -1, errTODO
}
func (c *Container) AddToken(id int, token []byte) (int, error) { return -1, errTODO }
func (c *Container) RemoveToken(id int) error                   { return errTODO }
func (c *Container) Repair() error                              { return errTODO }
func (c *Container) Erase() error                               { return errTODO }
func (c *Container) OpenVolume(vk *VolumeKey) (*Volume, error)  { return nil, errTODO }
func (v *Volume) ReadAt(p []byte, off int64) (int, error)       { return 0, errTODO }
func (v *Volume) WriteAt(p []byte, off int64) (int, error)      { return 0, errTODO }
func (v *Volume) Size() int64                                   { return 0 }
func (v *Volume) Flush() error                                  { return errTODO }
func (v *Volume) Close() error                                  { return errTODO }
