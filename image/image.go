package image

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"travelkit/internal/durable"
)

// Device is a random-access block device of a fixed size.
type Device interface {
	io.ReaderAt
	io.WriterAt
	Size() int64
}

// Section is a window [Off, Off+N) of a parent device, e.g. a partition.
type Section struct {
	Dev Device
	Off int64
	N   int64
}

// NewSection returns the window [off, off+n) of dev.
func NewSection(dev Device, off, n int64) (*Section, error) {
	if off < 0 || n < 0 || off+n > dev.Size() || off+n < off {
		return nil, fmt.Errorf("image: section [%d,+%d) outside device of %d bytes", off, n, dev.Size())
	}
	return &Section{Dev: dev, Off: off, N: n}, nil
}

// ErrOutOfRange is returned for accesses past the end of a Section.
var ErrOutOfRange = errors.New("image: access outside device")

// Size returns the window length.
func (s *Section) Size() int64 { return s.N }

// ReadAt reads within the window.
func (s *Section) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.N {
		return 0, ErrOutOfRange
	}
	short := false
	if int64(len(p)) > s.N-off {
		p = p[:s.N-off]
		short = true
	}
	n, err := s.Dev.ReadAt(p, s.Off+off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

// WriteAt writes within the window; writes past its end fail.
func (s *Section) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > s.N {
		return 0, ErrOutOfRange
	}
	return s.Dev.WriteAt(p, s.Off+off)
}

// Flush flushes the parent device.
func (s *Section) Flush() error { return durable.Flush(s.Dev) }

// Counting wraps a Device and counts the bytes read and written through it.
type Counting struct {
	Dev          Device
	read, writes atomic.Int64
	written      atomic.Int64
}

// NewCounting wraps dev.
func NewCounting(dev Device) *Counting { return &Counting{Dev: dev} }

// Size returns the size of the wrapped device.
func (c *Counting) Size() int64 { return c.Dev.Size() }

// ReadAt reads and counts.
func (c *Counting) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.Dev.ReadAt(p, off)
	c.read.Add(int64(n))
	return n, err
}

// WriteAt writes and counts.
func (c *Counting) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.Dev.WriteAt(p, off)
	c.written.Add(int64(n))
	c.writes.Add(1)
	return n, err
}

// Flush flushes the wrapped device.
func (c *Counting) Flush() error { return durable.Flush(c.Dev) }

// BytesRead returns the bytes read so far.
func (c *Counting) BytesRead() int64 { return c.read.Load() }

// BytesWritten returns the bytes written so far.
func (c *Counting) BytesWritten() int64 { return c.written.Load() }

// Writes returns the number of WriteAt calls so far.
func (c *Counting) Writes() int64 { return c.writes.Load() }

// FileDevice adapts a file-like object with a known size to Device.
type FileDevice struct {
	F interface {
		io.ReaderAt
		io.WriterAt
	}
	N int64
}

// Size returns N.
func (f *FileDevice) Size() int64 { return f.N }

// ReadAt reads from the file.
func (f *FileDevice) ReadAt(p []byte, off int64) (int, error) { return f.F.ReadAt(p, off) }

// WriteAt writes to the file, refusing writes past N.
func (f *FileDevice) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > f.N {
		return 0, ErrOutOfRange
	}
	return f.F.WriteAt(p, off)
}

// Flush syncs the file when it can.
func (f *FileDevice) Flush() error { return durable.Flush(f.F) }
