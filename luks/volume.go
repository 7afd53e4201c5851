package luks

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"travelkit/luks/internal/xts"
)

// VolumeKey is a volume (master) key. Wipe it when done.
type VolumeKey struct {
	b []byte
	// checked records the digest b was verified against when a keyslot gave it,
	// so that opening the volume does not run the digest's PBKDF2 (about 125 ms)
	// a second time; sum catches a key changed since through Bytes
	checked *digestID
	sum     [32]byte
}

// digestID names a digest by what its verification depends on.
type digestID struct {
	hash, salt, digest string
	iterations         int
}

func idOf(d *digest) digestID {
	return digestID{hash: d.Hash, salt: d.Salt, digest: d.Digest, iterations: d.Iterations}
}

// verifiedBy reports whether k was verified against d and is unchanged since.
func (k *VolumeKey) verifiedBy(d *digest) bool {
	return k.checked != nil && *k.checked == idOf(d) && sha256.Sum256(k.b) == k.sum
}

// NewVolumeKey wraps a copy of b.
func NewVolumeKey(b []byte) *VolumeKey { return &VolumeKey{b: append([]byte(nil), b...)} }

// Bytes returns the key; do not keep it past Wipe.
func (k *VolumeKey) Bytes() []byte { return k.b }

// Wipe zeroes the key.
func (k *VolumeKey) Wipe() {
	clear(k.b)
	k.checked, k.sum = nil, [32]byte{}
}

// Volume is the decrypted payload of an unlocked container: an io.ReaderAt and
// io.WriterAt over plaintext. Aligned requests go straight through (large ones split
// across all cores); partial sectors are read, decrypted, patched and re-encrypted.
// Writes of whole sectors run concurrently (callers never write the same sector
// from two goroutines at once); only the read-modify-write of a partial sector is
// serialised.
type Volume struct {
	r       io.ReaderAt
	w       io.WriterAt // nil when the device is read-only
	off     int64       // data offset on the device
	size    int64       // payload size
	ss      int64       // sector size
	step    uint64      // tweak units (512 bytes) per sector
	ivTweak uint64
	c       *xts.Cipher
	wmu     sync.Mutex // serialises read-modify-writes of partial sectors
	// gate, when set, is called before every write: a volume opened with a key whose
	// check has not ended (PendingUnlock.Candidate) writes nothing until it returns nil
	gate func() error
}

// writable says why v may not write now: closed, read-only, or a key not (yet) checked.
func (v *Volume) writable() error {
	if v.c == nil {
		return errClosed
	}
	if v.w == nil {
		return errors.New("luks: the device was opened read-only")
	}
	if v.gate != nil {
		if err := v.gate(); err != nil {
			return fmt.Errorf("luks: not writing with a key that did not pass the volume key check: %w", err)
		}
	}
	return nil
}

// parallelMin is the request size from which work is split across cores.
const parallelMin = 256 << 10

// OpenVolume checks the volume key and returns the decrypted payload.
func (c *Container) OpenVolume(vk *VolumeKey) (*Volume, error) {
	md := c.meta()
	if err := md.checkVolumeKey(vk); err != nil {
		return nil, err
	}
	return c.volume(md, vk.b)
}

// volume opens the payload with key, unchecked.
func (c *Container) volume(md *metadata, key []byte) (*Volume, error) {
	_, s := md.segment()
	size := c.payloadSize(s)
	if size <= 0 || int64(s.Offset)+size > c.size {
		return nil, fmt.Errorf("the device (%d bytes) is truncated: the payload starts at %d and needs %d bytes", c.size, s.Offset, size)
	}
	x, err := xts.New(key)
	if err != nil {
		return nil, err
	}
	v := &Volume{r: c.dev, off: int64(s.Offset), size: size, ss: int64(s.SectorSize),
		step: uint64(s.SectorSize / 512), ivTweak: uint64(s.IVTweak), c: x}
	if w, ok := c.dev.(io.WriterAt); ok {
		v.w = w
	}
	return v, nil
}

// Size is the payload size in bytes.
func (v *Volume) Size() int64 { return v.size }

// SectorSize is the encryption sector size.
func (v *Volume) SectorSize() int { return int(v.ss) }

func (v *Volume) tweak(sector int64) uint64 { return v.ivTweak + uint64(sector)*v.step }

var errClosed = errors.New("luks: volume is closed")

// ReadAt reads decrypted payload bytes.
func (v *Volume) ReadAt(p []byte, off int64) (int, error) {
	if v.c == nil {
		return 0, errClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("luks: negative offset %d", off)
	}
	if off >= v.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := len(p)
	var eof error
	if int64(n) > v.size-off {
		n, eof = int(v.size-off), io.EOF
	}
	p = p[:n]
	done := 0
	// head: a partial first sector
	if r := off % v.ss; r != 0 || int64(len(p)) < v.ss {
		sec := off - r
		buf := make([]byte, v.ss)
		if err := v.readSectors(buf, sec); err != nil {
			return 0, err
		}
		done = copy(p, buf[r:])
	}
	// middle: whole sectors, decrypted in place in p
	whole := (int64(len(p)-done) / v.ss) * v.ss
	if whole > 0 {
		if err := v.readSectors(p[done:done+int(whole)], off+int64(done)); err != nil {
			return done, err
		}
		done += int(whole)
	}
	// tail
	if done < len(p) {
		buf := make([]byte, v.ss)
		if err := v.readSectors(buf, off+int64(done)); err != nil {
			return done, err
		}
		done += copy(p[done:], buf)
	}
	return done, eof
}

// readSectors reads whole sectors at the sector-aligned payload offset off into p and decrypts them.
func (v *Volume) readSectors(p []byte, off int64) error {
	return v.parallel(len(p), func(a, b int) error {
		if _, err := v.r.ReadAt(p[a:b], v.off+off+int64(a)); err != nil {
			return fmt.Errorf("reading the encrypted payload at %d: %w", v.off+off+int64(a), err)
		}
		v.c.DecryptSectors(p[a:b], p[a:b], int(v.ss), v.tweak((off+int64(a))/v.ss), v.step)
		return nil
	})
}

// parallel splits [0, n) into sector-aligned pieces and runs f on them across all cores.
func (v *Volume) parallel(n int, f func(a, b int) error) error {
	workers := runtime.GOMAXPROCS(0)
	if n < parallelMin || workers < 2 {
		return f(0, n)
	}
	sectors := n / int(v.ss)
	per := (sectors + workers - 1) / workers
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := 0; i < workers; i++ {
		a := i * per * int(v.ss)
		b := min((i+1)*per*int(v.ss), n)
		if a >= b {
			break
		}
		wg.Add(1)
		go func(i, a, b int) {
			defer wg.Done()
			errs[i] = f(a, b)
		}(i, a, b)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// chunk is the size of the encryption buffer used per worker when writing.
const chunk = 1 << 20

// smallWrite is the largest write encrypted into a buffer of its own size instead
// of a pooled chunk (a file system's metadata blocks).
const smallWrite = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunk); return &b }}

// WriteAt encrypts and writes payload bytes.
func (v *Volume) WriteAt(p []byte, off int64) (int, error) {
	if err := v.writable(); err != nil {
		return 0, err
	}
	if off < 0 || off > v.size || int64(len(p)) > v.size-off {
		return 0, fmt.Errorf("luks: write of %d bytes at %d is outside the %d-byte payload", len(p), off, v.size)
	}
	done := 0
	if r := off % v.ss; r != 0 || int64(len(p)) < v.ss {
		n, err := v.patchSector(off-r, int(r), p)
		if err != nil {
			return 0, err
		}
		done = n
	}
	whole := (int64(len(p)-done) / v.ss) * v.ss
	if whole > 0 {
		base := off + int64(done)
		src := p[done : done+int(whole)]
		err := v.parallel(len(src), func(a, b int) error {
			if b-a <= smallWrite {
				// a file system's metadata block: no 1 MiB pool buffer for it
				buf := make([]byte, b-a)
				v.c.EncryptSectors(buf, src[a:b], int(v.ss), v.tweak((base+int64(a))/v.ss), v.step)
				if _, err := v.w.WriteAt(buf, v.off+base+int64(a)); err != nil {
					return fmt.Errorf("writing the encrypted payload at %d: %w", v.off+base+int64(a), err)
				}
				return nil
			}
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			buf := *bp
			for x := a; x < b; x += chunk {
				y := min(x+chunk, b)
				v.c.EncryptSectors(buf[:y-x], src[x:y], int(v.ss), v.tweak((base+int64(x))/v.ss), v.step)
				if _, err := v.w.WriteAt(buf[:y-x], v.off+base+int64(x)); err != nil {
					return fmt.Errorf("writing the encrypted payload at %d: %w", v.off+base+int64(x), err)
				}
			}
			clear(buf)
			return nil
		})
		if err != nil {
			return done, err
		}
		done += int(whole)
	}
	if done < len(p) {
		n, err := v.patchSector(off+int64(done), 0, p[done:])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// WriteAtInPlace writes p at off like WriteAt, but encrypts whole sectors in p
// itself instead of a copy: p holds ciphertext afterwards. A file system writing
// a buffer it no longer needs (a streamed file's blocks) saves the copy and the
// encryption buffers that way, and the write is one pwrite.
func (v *Volume) WriteAtInPlace(p []byte, off int64) (int, error) {
	if err := v.writable(); err != nil {
		return 0, err
	}
	if off < 0 || off%v.ss != 0 || int64(len(p))%v.ss != 0 || off > v.size || int64(len(p)) > v.size-off {
		return v.WriteAt(p, off)
	}
	_ = v.parallel(len(p), func(a, b int) error {
		v.c.EncryptSectors(p[a:b], p[a:b], int(v.ss), v.tweak((off+int64(a))/v.ss), v.step)
		return nil
	})
	if _, err := v.w.WriteAt(p, v.off+off); err != nil {
		return 0, fmt.Errorf("writing the encrypted payload at %d: %w", v.off+off, err)
	}
	return len(p), nil
}

// patchSector does a read-modify-write of the sector at sec, putting p at offset r in it.
func (v *Volume) patchSector(sec int64, r int, p []byte) (int, error) {
	v.wmu.Lock()
	defer v.wmu.Unlock()
	buf := make([]byte, v.ss)
	defer clear(buf)
	if err := v.readSectors(buf, sec); err != nil {
		return 0, err
	}
	n := copy(buf[r:], p)
	v.c.EncryptSectors(buf, buf, int(v.ss), v.tweak(sec/v.ss), v.step)
	if _, err := v.w.WriteAt(buf, v.off+sec); err != nil {
		return 0, fmt.Errorf("writing the encrypted payload at %d: %w", v.off+sec, err)
	}
	return n, nil
}

// Flush makes written data durable on the device (fsync for files and block devices).
func (v *Volume) Flush() error {
	if v.c == nil {
		return errClosed
	}
	return syncDevice(v.r)
}

// Close wipes the key schedule; it always returns nil. The device itself is the caller's
// to close.
func (v *Volume) Close() error {
	if v.c != nil {
		v.c.Wipe()
		v.c = nil
	}
	return nil
}
