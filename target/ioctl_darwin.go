package target

import (
	"syscall"
	"unsafe"
)

func ioctlUint64(fd int, req uint, v *uint64) error {
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(v)))
	if e != 0 {
		return e
	}
	return nil
}
