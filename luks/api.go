package luks

import (
	"errors"
	"fmt"
	"io"
	"time"

	"travelkit/internal/bytesize"
)

// Device is storage that holds a LUKS2 container: a file, a block device or a window of one.
type Device interface {
	io.ReaderAt
	io.WriterAt
}

// Defaults, as cryptsetup 2.6 uses them.
const (
	DefaultDataOffset = 16 << 20 // bytes
	DefaultHeaderSize = 16384    // bytes, each copy (binary header + JSON area)
	DefaultKeySize    = 64       // bytes: aes-xts-plain64 with 512-bit keys
	DefaultSectorSize = 4096
	DefaultIterTime   = 2 * time.Second
	// MaxMemoryKiB is the largest Argon2 memory cost travelkit will calibrate to or
	// accept from a header (cryptsetup's limit is 4 GiB; the calibration cap is 1 GiB).
	MaxMemoryKiB        = 4 * 1024 * 1024
	DefaultMaxMemoryKiB = 1024 * 1024
	MaxKeyslots         = 32
	MaxTokens           = 32
	// MaxTokenJSON is the most bytes one token's JSON can take: the JSON area of the
	// largest LUKS2 header (4 MiB less its 4 KiB binary header), which would hold it
	// with all the rest of the metadata. Readers of a token bound their read with it.
	MaxTokenJSON = 4<<20 - binHeaderSize
)

// PBKDF describes a keyslot's key derivation. Zero costs are calibrated to IterTime.
type PBKDF struct {
	Type         string        // "argon2id" (default), "argon2i" or "pbkdf2"
	Hash         string        // pbkdf2 only: "sha256" (default) or "sha512"
	Iterations   uint32        // argon2 time cost or pbkdf2 iterations; 0: calibrate
	MemoryKiB    uint32        // argon2 memory cost in KiB; 0: calibrate (argon2 only)
	Parallel     uint32        // argon2 lanes; 0: min(4, CPUs)
	IterTime     time.Duration // calibration target; 0: DefaultIterTime
	MaxMemoryKiB uint32        // calibration cap; 0: DefaultMaxMemoryKiB, and never over half the RAM
}

// FormatOptions are the choices made when a volume is created. The zero value gives
// cryptsetup's defaults (aes-xts-plain64, 512-bit key, 4096-byte sectors, argon2id, 2 s).
type FormatOptions struct {
	KeySize    int    // volume key bytes: 32 or 64
	SectorSize int    // 512 or 4096
	PBKDF      PBKDF  // keyslot 0's KDF
	Label      string // up to 47 bytes
	Subsystem  string // up to 47 bytes
	UUID       string // default: random v4
	VolumeKey  []byte // default: random; copied, the caller keeps ownership
	DataOffset int64  // default DefaultDataOffset; multiple of 4096
	Keyslot    int    // keyslot for the passphrase; default 0
}

// Errors callers branch on.
var (
	ErrNotLUKS         = errors.New("not a LUKS volume (no LUKS header magic)")
	ErrWrongPassphrase = errors.New("no keyslot matches this passphrase")
	ErrWrongVolumeKey  = errors.New("volume key does not match the volume's digest")
	ErrLastKeyslot     = errors.New("refusing to remove the last keyslot: the volume would be unrecoverable")
	ErrNoFreeKeyslot   = errors.New("no free keyslot")
	ErrKeyslotInUse    = errors.New("keyslot is already in use")
	ErrNoSuchKeyslot   = errors.New("no such keyslot")
	ErrNoSuchToken     = errors.New("no such token")
	ErrTokenInUse      = errors.New("token id is already in use")
	ErrBothHeadersBad  = errors.New("both LUKS2 header copies are damaged")
	ErrNoKeyslotSpace  = errors.New("not enough room in the keyslots area")
)

// MemoryError refuses a key derivation that needs more memory than the computer has
// available, as cryptsetup does ("Not enough available memory to open a keyslot"):
// starting it would swap for minutes or be killed by the system.
type MemoryError struct {
	NeedKiB, AvailableKiB uint64
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("not enough available memory to open a keyslot: its argon2 key derivation needs %s and this computer has %s available; close other programs and try again, or use a computer with more memory",
		bytesize.Format(int64(e.NeedKiB)<<10), bytesize.Format(int64(e.AvailableKiB)<<10))
}

// UnsupportedError says that a volume uses something travelkit does not implement.
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string { return "unsupported LUKS volume: " + e.What }

// LUKS1Error is returned by Open for a LUKS1 volume.
type LUKS1Error struct{ UUID string }

func (e *LUKS1Error) Error() string {
	return fmt.Sprintf("this is a LUKS1 volume (UUID %s); travelkit handles LUKS2 only: convert it with `cryptsetup convert --type luks2`", e.UUID)
}

// CorruptError describes why a header copy was rejected.
type CorruptError struct {
	Copy   string // "primary" or "secondary"
	Reason string
}

func (e *CorruptError) Error() string { return "LUKS2 " + e.Copy + " header: " + e.Reason }
