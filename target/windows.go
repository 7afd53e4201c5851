//go:build windows

package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/windows"
)

const exampleDisk = `\\.\PhysicalDrive1`

// autoUnmount: Windows mounts a stick's FAT partition by itself; Open locks and dismounts
// the disk's volumes once the plan was accepted.
const autoUnmount = true

const (
	ioctlDiskGetLengthInfo          = 0x0007405C
	ioctlStorageQueryProperty       = 0x002D1400
	ioctlVolumeGetVolumeDiskExtents = 0x00560000
	fsctlLockVolume                 = 0x00090018
	fsctlDismountVolume             = 0x00090020
	busUSB, busSD, busMMC, busNVMe  = 7, 12, 13, 17
)

var physRE = regexp.MustCompile(`(?i)^\\\\\.\\PhysicalDrive([0-9]+)$`)

func isDevicePath(p string) bool { return strings.HasPrefix(p, `\\.\`) }

func unmountHint(m string) string { return "eject or close " + m }

func openHandle(path string, access uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, err
	}
	return windows.CreateFile(p, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
}

func ioctl(h windows.Handle, code uint32, in []byte, out []byte) (int, error) {
	var n uint32
	var inp, outp *byte
	if len(in) > 0 {
		inp = &in[0]
	}
	if len(out) > 0 {
		outp = &out[0]
	}
	err := windows.DeviceIoControl(h, code, inp, uint32(len(in)), outp, uint32(len(out)), &n, nil)
	return int(n), err
}

// volumeDisks returns the disk numbers a volume (\\.\C:) spans.
func volumeDisks(vol string) []int {
	h, err := openHandle(vol, 0)
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(h)
	out := make([]byte, 8+24*16)
	n, err := ioctl(h, ioctlVolumeGetVolumeDiskExtents, nil, out)
	if err != nil || n < 8 {
		return nil
	}
	cnt := int(binary.LittleEndian.Uint32(out))
	var disks []int
	for i := 0; i < cnt && 8+24*(i+1) <= n; i++ {
		disks = append(disks, int(binary.LittleEndian.Uint32(out[8+24*i:])))
	}
	return disks
}

// lettersOn lists the drive letters whose volumes live on disk number d.
func lettersOn(d int) []string {
	mask, _ := windows.GetLogicalDrives()
	var out []string
	for i := 0; i < 26; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		l := string(rune('A'+i)) + ":"
		for _, n := range volumeDisks(`\\.\` + l) {
			if n == d {
				out = append(out, l)
			}
		}
	}
	return out
}

func cstr(b []byte, off uint32) string {
	if off == 0 || int(off) >= len(b) {
		return ""
	}
	s := b[off:]
	if i := strings.IndexByte(string(s), 0); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(string(s))
}

func inspectDisk(path string) (*Info, error) {
	m := physRE.FindStringSubmatch(path)
	if m == nil {
		return nil, &RefusedError{Path: path, Reason: `not a whole disk (expected \\.\PhysicalDriveN)`, Hint: "list disks in PowerShell with: Get-Disk"}
	}
	num, _ := strconv.Atoi(m[1])
	h, err := openHandle(path, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer windows.CloseHandle(h)
	info := &Info{Path: path, Kind: BlockDevice, RawPath: path}
	lenOut := make([]byte, 8)
	if _, err := ioctl(h, ioctlDiskGetLengthInfo, nil, lenOut); err != nil {
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
			return nil, fmt.Errorf("%s: %w: open PowerShell as Administrator", path, ErrNeedAdmin)
		}
		return nil, fmt.Errorf("%s: disk size: %w", path, err)
	}
	info.Size = int64(binary.LittleEndian.Uint64(lenOut))
	q := make([]byte, 12) // StorageDeviceProperty, PropertyStandardQuery
	desc := make([]byte, 1024)
	if n, err := ioctl(h, ioctlStorageQueryProperty, q, desc); err == nil && n >= 32 {
		desc = desc[:n]
		info.Removable = desc[10] != 0
		vendor := cstr(desc, binary.LittleEndian.Uint32(desc[12:]))
		product := cstr(desc, binary.LittleEndian.Uint32(desc[16:]))
		info.Model = strings.TrimSpace(vendor + " " + product)
		info.Serial = cstr(desc, binary.LittleEndian.Uint32(desc[24:]))
		switch binary.LittleEndian.Uint32(desc[28:]) {
		case busUSB:
			info.Transport, info.Removable = "usb", true
		case busSD, busMMC:
			info.Transport, info.Removable = "sd", true
		case busNVMe:
			info.Transport = "nvme"
		}
	}
	sysDrive := os.Getenv("SystemDrive")
	if sysDrive == "" {
		sysDrive = "C:"
	}
	for _, d := range volumeDisks(`\\.\` + sysDrive) {
		if d == num {
			info.System = "Windows (" + sysDrive + ") is on it"
		}
	}
	for _, l := range lettersOn(num) {
		info.Partitions = append(info.Partitions, Partition{Path: l, Mounts: []string{l + `\`}})
	}
	return info, nil
}

func inspectImageUse(info *Info) error { return nil }

// winDisk keeps the locked volume handles open while the disk is written.
type winDisk struct {
	*os.File
	locks []windows.Handle
}

func (w *winDisk) Close() error {
	err := w.File.Close()
	for _, h := range w.locks {
		windows.CloseHandle(h)
	}
	return err
}

func openDisk(info *Info, opt Options) (rawDevice, error) {
	access := uint32(windows.GENERIC_READ)
	wd := &winDisk{}
	if opt.Write {
		access |= windows.GENERIC_WRITE
		if !opt.DataOnly {
			num, _ := strconv.Atoi(physRE.FindStringSubmatch(info.Path)[1])
			for _, l := range lettersOn(num) {
				h, err := openHandle(`\\.\`+l, windows.GENERIC_READ|windows.GENERIC_WRITE)
				if err != nil {
					wd.closeLocks()
					return nil, fmt.Errorf("opening volume %s: %w", l, err)
				}
				if _, err := ioctl(h, fsctlLockVolume, nil, nil); err != nil {
					windows.CloseHandle(h)
					wd.closeLocks()
					return nil, &RefusedError{Path: info.Path, Reason: "volume " + l + " is in use and cannot be locked", Hint: "close Explorer windows and files on " + l + ", then try again"}
				}
				ioctl(h, fsctlDismountVolume, nil, nil)
				wd.locks = append(wd.locks, h)
			}
		}
	}
	h, err := openHandle(info.RawPath, access)
	if err != nil {
		wd.closeLocks()
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
			return nil, fmt.Errorf("%s: %w: open PowerShell as Administrator (right-click, Run as administrator)", info.Path, ErrNeedAdmin)
		}
		return nil, fmt.Errorf("%s: %w", info.Path, err)
	}
	wd.File = os.NewFile(uintptr(h), info.RawPath)
	return newAligned(wd, 4096), nil
}

func (w *winDisk) closeLocks() {
	for _, h := range w.locks {
		windows.CloseHandle(h)
	}
	w.locks = nil
}

// ListDisks returns the physical drives that can be opened (\\.\PhysicalDrive0..63).
func ListDisks() ([]string, error) {
	var out []string
	for i := 0; i < 64; i++ {
		p := `\\.\PhysicalDrive` + strconv.Itoa(i)
		h, err := openHandle(p, 0)
		if err != nil {
			continue
		}
		windows.CloseHandle(h)
		out = append(out, p)
	}
	return out, nil
}
