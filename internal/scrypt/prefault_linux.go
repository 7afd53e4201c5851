package scrypt

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// prefault asks the kernel, on another goroutine, to map writable pages under the work
// area v before ROMix's first loop writes it (madvise MADV_POPULATE_WRITE, Linux 5.14
// and later; on older kernels it does nothing). Its 32 MiB are otherwise mapped one
// 4 KiB page at a time as the loop reaches them: 8,192 page faults, about 10 ms of the
// ~70 ms derivation, taken in turn on the core that derives, while the other core of a
// two-core machine waits for the key with nothing to do. The call changes no byte of v,
// so it may race with the loop's writes. wait returns once the call is done.
func prefault(v []uint32) (wait func()) {
	if len(v) == 0 {
		return func() {}
	}
	page := os.Getpagesize()
	b := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)
	if off := int(uintptr(unsafe.Pointer(&b[0])) % uintptr(page)); off != 0 {
		b = b[min(len(b), page-off):]
	}
	b = b[:len(b)/page*page]
	if len(b) == 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = unix.Madvise(b, unix.MADV_POPULATE_WRITE)
	}()
	return func() { <-done }
}
