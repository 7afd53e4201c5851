package target

import (
	"fmt"
	"sync"
)

// aligned makes a raw device that only accepts whole, aligned blocks (macOS /dev/rdiskN,
// Windows \\.\PhysicalDriveN) usable with any offset and length: unaligned edges are
// read, patched and written back.
type aligned struct {
	dev rawDevice
	bs  int64
	mu  sync.Mutex
}

// ReadBlockError says a write that covers part of a block could not read that block
// first (the rest of the block is written back as it was). Err is the system's error.
type ReadBlockError struct {
	Off int64 // the block's byte offset on the device
	Err error
}

func (e *ReadBlockError) Error() string { return fmt.Sprintf("reading block at %d: %v", e.Off, e.Err) }

func (e *ReadBlockError) Unwrap() error { return e.Err }

func newAligned(dev rawDevice, bs int64) *aligned { return &aligned{dev: dev, bs: bs} }

func (a *aligned) Sync() error  { return a.dev.Sync() }
func (a *aligned) Close() error { return a.dev.Close() }

func (a *aligned) ReadAt(p []byte, off int64) (int, error) {
	if off%a.bs == 0 && int64(len(p))%a.bs == 0 {
		return a.dev.ReadAt(p, off)
	}
	lo := off - off%a.bs
	hi := (off + int64(len(p)) + a.bs - 1) / a.bs * a.bs
	buf := make([]byte, hi-lo)
	n, err := a.dev.ReadAt(buf, lo)
	got := max(0, min(int64(n)-(off-lo), int64(len(p))))
	copy(p, buf[off-lo:off-lo+got])
	if err != nil {
		return int(got), err
	}
	return len(p), nil
}

func (a *aligned) WriteAt(p []byte, off int64) (int, error) {
	if off%a.bs == 0 && int64(len(p))%a.bs == 0 {
		return a.dev.WriteAt(p, off)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	done := 0
	// head
	if r := off % a.bs; r != 0 || int64(len(p)) < a.bs {
		n, err := a.patch(off-r, r, p)
		if err != nil {
			return 0, err
		}
		done = n
	}
	// middle
	whole := (int64(len(p)-done) / a.bs) * a.bs
	if whole > 0 {
		if _, err := a.dev.WriteAt(p[done:done+int(whole)], off+int64(done)); err != nil {
			return done, err
		}
		done += int(whole)
	}
	// tail
	if done < len(p) {
		n, err := a.patch(off+int64(done), 0, p[done:])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (a *aligned) patch(block, r int64, p []byte) (int, error) {
	buf := make([]byte, a.bs)
	if _, err := a.dev.ReadAt(buf, block); err != nil {
		return 0, &ReadBlockError{Off: block, Err: err} // deep in a write: the caller says which
	}
	n := copy(buf[r:], p)
	if _, err := a.dev.WriteAt(buf, block); err != nil {
		return 0, err
	}
	return n, nil
}
