//go:build windows

package target

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
)

const exampleDisk = `\\.\PhysicalDrive1`

// autoUnmount: Windows mounts a stick's FAT partition by itself; Open locks and dismounts
// the disk's volumes once the plan was accepted.
const autoUnmount = true

func isDevicePath(p string) bool { return strings.HasPrefix(p, `\\.\`) }

func unmountHint(m string) string { return "eject or close " + m }

// realWindows is winOS on Windows itself.
type realWindows struct{}

func winErr(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return winErrno(e)
	}
	return err
}

func (realWindows) CreateFile(path string, access uint32) (winHandle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, err
	}
	h, err := windows.CreateFile(p, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	return winHandle(h), winErr(err)
}

func (realWindows) DeviceIoControl(h winHandle, code uint32, in, out []byte) (int, error) {
	var n uint32
	var inp, outp *byte
	if len(in) > 0 {
		inp = &in[0]
	}
	if len(out) > 0 {
		outp = &out[0]
	}
	err := windows.DeviceIoControl(windows.Handle(h), code, inp, uint32(len(in)), outp, uint32(len(out)), &n, nil)
	return int(n), winErr(err)
}

func (realWindows) CloseHandle(h winHandle) { windows.CloseHandle(windows.Handle(h)) }

func (realWindows) LogicalDrives() uint32 {
	m, _ := windows.GetLogicalDrives()
	return m
}

func (realWindows) SystemDrive() string {
	if d := os.Getenv("SystemDrive"); d != "" {
		return d
	}
	return "C:"
}

func (realWindows) Elevated() bool { return windows.GetCurrentProcessToken().IsElevated() }

var disks = winDisks{sys: realWindows{}}

func inspectDisk(path string) (*Info, error) { return disks.inspect(path) }

func inspectImageUse(info *Info) error { return nil }

// winDisk keeps the locked volume handles open while the disk is written.
type winDisk struct {
	*os.File
	locks []winHandle
}

func (w *winDisk) Close() error {
	err := w.File.Close()
	for _, h := range w.locks {
		disks.sys.CloseHandle(h)
	}
	return err
}

func openDisk(info *Info, opt Options) (rawDevice, error) {
	h, locks, err := disks.open(info, opt)
	if err != nil {
		return nil, err
	}
	return newAligned(&winDisk{File: os.NewFile(uintptr(h), info.RawPath), locks: locks}, 4096), nil
}

// ListDisks returns the physical drives that exist (\\.\PhysicalDrive0..63).
func ListDisks() ([]string, error) { return disks.list(), nil }
