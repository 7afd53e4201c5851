package target

import "io"

// ReadWriterAt is random access to a device.
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

// Aligned wraps a raw device that accepts only whole blocks of bs bytes (macOS
// /dev/rdiskN, Windows \\.\PhysicalDriveN) so that any offset and length work.
func Aligned(dev ReadWriterAt, bs int64) ReadWriterAt {
	return &aligned{dev: nopSyncCloser{dev}, bs: bs}
}

type nopSyncCloser struct{ ReadWriterAt }

func (nopSyncCloser) Sync() error  { return nil }
func (nopSyncCloser) Close() error { return nil }
