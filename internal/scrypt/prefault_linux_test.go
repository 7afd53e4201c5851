package scrypt

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPrefaultMapsTheWorkArea: after prefault's wait, every page of a work area that no
// one has touched is mapped (mincore), and its bytes are still zero. On a kernel without
// MADV_POPULATE_WRITE (before 5.14) prefault does nothing, which the test says.
func TestPrefaultMapsTheWorkArea(t *testing.T) {
	const size = 4 << 20
	page := unix.Getpagesize()
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	resident := func() int {
		vec := make([]byte, size/page)
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), size, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			t.Fatal(e)
		}
		n := 0
		for _, b := range vec {
			n += int(b & 1)
		}
		return n
	}
	if n := resident(); n != 0 {
		t.Fatalf("%d pages of a new mapping resident before prefault", n)
	}
	if err := unix.Madvise(m[:page], unix.MADV_POPULATE_WRITE); err == unix.EINVAL {
		t.Fatalf("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): prefault does nothing here")
	}
	unix.Madvise(m[:page], unix.MADV_DONTNEED)
	v := unsafe.Slice((*uint32)(unsafe.Pointer(&m[0])), size/4)
	prefault(v)()
	if n := resident(); n != size/page {
		t.Fatalf("%d of %d pages resident after prefault", n, size/page)
	}
	for i, w := range v {
		if w != 0 {
			t.Fatalf("word %d is %#x after prefault", i, w)
		}
	}
}
