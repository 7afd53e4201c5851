package durable

// Flusher is a device that buffers writes, or passes a flush on to the device under it.
type Flusher interface {
	Flush() error
}

// Syncer is a file or a disk: Sync asks the operating system to write it to stable storage.
type Syncer interface {
	Sync() error
}

// Flush makes d's writes durable: d.Flush() when d is a Flusher, else d.Sync() when d is
// a Syncer, else nothing (memory has nowhere further to go).
func Flush(d any) error {
	switch f := d.(type) {
	case Flusher:
		return f.Flush()
	case Syncer:
		return f.Sync()
	}
	return nil
}
