package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"travelkit/internal/bytesize"
)

// Everything read from a repository is bounded before it is allocated: a repository may
// come from someone hostile, and travelkit stays within about 1 GiB whatever it holds.
// Each bound names the thing in its error, so that a damaged or crafted repository is
// reported, not followed.
const (
	// maxDataBlob bounds a data blob's plaintext; restic's chunker makes at most 8 MiB.
	maxDataBlob = 16 << 20
	// maxTreeBlob bounds a tree's JSON: about 200,000 entries in one folder.
	maxTreeBlob = 64 << 20
	// Stored sizes of the small files.
	maxConfigFile   = 1 << 20
	maxLockFile     = 1 << 20
	maxSnapshotFile = 64 << 20 // stored, and its plaintext
	// maxIndexFile bounds a stored index file; its plaintext is streamed and bounded by
	// maxIndexPlain and the entry count.
	maxIndexFile  = 64 << 20
	maxIndexPlain = 512 << 20
	// maxPackFile bounds a pack file read whole (check --read-data); restic's largest
	// --pack-size is 128 MiB, and the header may add 16 MiB.
	maxPackFile = 160 << 20
	// maxZstdWindow bounds the window of a streamed zstd frame (restic uses 8 MiB).
	maxZstdWindow = 32 << 20
)

// maxStored is the largest file of type t that is read whole.
func maxStored(t FileType) int64 {
	switch t {
	case ConfigFile:
		return maxConfigFile
	case KeyFile:
		return maxKeyFileSize
	case LockFile:
		return maxLockFile
	case SnapshotFile:
		return maxSnapshotFile
	case IndexFile:
		return maxIndexFile
	}
	return maxPackFile
}

// maxPlain is the largest plaintext of an unpacked file of type t.
func maxPlain(t FileType) int64 {
	switch t {
	case IndexFile:
		return maxIndexPlain
	case SnapshotFile:
		return maxSnapshotFile
	}
	return maxStored(t)
}

// maxBlob is the largest plaintext of a blob of type t.
func maxBlob(t BlobType) int {
	if t == TreeBlob {
		return maxTreeBlob
	}
	return maxDataBlob
}

// maxStoredBlob is the largest stored blob of type t: its plaintext, what zstd may add
// to data it cannot compress, and the encryption.
func maxStoredBlob(t BlobType) uint32 {
	m := maxBlob(t)
	return uint32(m + m/128 + 1024 + Overhead)
}

func tooLarge(what string, size, limit int64) error {
	return fmt.Errorf("%s is %s, more than the %s travelkit reads (a damaged or crafted repository): %w",
		what, bytesize.Format(size), bytesize.Format(limit), ErrTooLarge)
}

// loadFile loads h whole, refusing a file larger than its type allows before reading
// it. size is the size List reported, or -1 to ask the storage.
func (r *Repository) loadFile(ctx context.Context, h Handle, size int64) ([]byte, error) {
	if size < 0 {
		var err error
		if size, err = r.st.Stat(ctx, h); err != nil {
			return nil, err
		}
	}
	if limit := maxStored(h.Type); size > limit {
		return nil, tooLarge(h.String(), size, limit)
	}
	if size == 0 {
		return []byte{}, nil
	}
	b, err := r.st.Load(ctx, h, 0, int(size))
	if err == nil && int64(len(b)) != size {
		err = fmt.Errorf("%s: read %d bytes of %d", h, len(b), size)
	}
	return b, err
}

// plainReader checks and decrypts (in place) the stored bytes of an unpacked file and
// returns a reader of its plaintext, decompressing as it is read; close releases the
// decoder.
func (r *Repository) plainReader(buf []byte) (rd io.Reader, close func(), err error) {
	if len(buf) < Overhead {
		return nil, nil, errors.New("ciphertext too short")
	}
	// decrypted over its own ciphertext: the exact overlap CTR allows
	p, err := r.key.Open(buf[ivSize:ivSize], buf)
	if err != nil {
		return nil, nil, err
	}
	if r.cfg.Version < 2 || len(p) == 0 || p[0] == '{' || p[0] == '[' {
		return bytes.NewReader(p), func() {}, nil
	}
	if p[0] != 2 {
		return nil, nil, fmt.Errorf("unsupported file encoding version %d", p[0])
	}
	d, err := zstd.NewReader(bytes.NewReader(p[1:]), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		return nil, nil, err
	}
	return d, d.Close, nil
}

// readCapped reads all of rd, refusing more than limit bytes.
func readCapped(rd io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s decompresses to more than %s, the most travelkit reads (a damaged or crafted repository): %w",
			what, bytesize.Format(limit), ErrTooLarge)
	}
	return b, nil
}

// byteBudget lets work proceed while the bytes it holds stay within a total; one piece
// larger than the total runs alone.
type byteBudget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	total int64
	used  int64
}

func newByteBudget(total int64) *byteBudget {
	b := &byteBudget{total: total}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *byteBudget) acquire(n int64) {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.total {
		b.cond.Wait()
	}
	b.used += n
	b.mu.Unlock()
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

var errDeclared = errors.New("decompresses to more than its declared length")
