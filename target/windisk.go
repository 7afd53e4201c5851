package target

// Windows raw disks (\\.\PhysicalDriveN), written over winOS, the few Windows calls they
// need, so that the rights each call asks for and the way failures are explained are
// unit-tested on every system (windisk_test.go): Wine has no physical drives, and this
// is the path a person restoring on a borrowed Windows computer takes.

import (
	"encoding/binary"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"travelkit/i18n"
)

// Access rights and control codes, as in Microsoft's headers (winnt.h, winioctl.h). The
// rights a control code needs are in its bits 14-15 (CTL_CODE's Access): 1 read, 2 write.
const (
	winGenericRead  = 0x80000000
	winGenericWrite = 0x40000000

	ioctlDiskGetLengthInfo          = 0x0007405C // FILE_READ_ACCESS
	ioctlDiskGetDriveGeometryEx     = 0x000700A0 // FILE_ANY_ACCESS; opened for reading all the same
	ioctlStorageQueryProperty       = 0x002D1400 // FILE_ANY_ACCESS
	ioctlVolumeGetVolumeDiskExtents = 0x00560000 // FILE_ANY_ACCESS
	fsctlLockVolume                 = 0x00090018 // a volume opened for reading and writing
	fsctlDismountVolume             = 0x00090020 // a volume opened for reading and writing
	busUSB, busSD, busMMC, busNVMe  = 7, 12, 13, 17
)

// winErrno is a Windows error code, as winOS reports failures.
type winErrno uint32

func (e winErrno) Error() string {
	switch e {
	case winErrFileNotFound, winErrPathNotFound:
		return "not found"
	case winErrAccessDenied:
		return "access denied"
	case winErrSharingViolation:
		return "in use by another program (sharing violation)"
	case winErrNotReady:
		return "the device is not ready"
	case winErrInvalidFunction:
		return "not supported by the device"
	}
	return "Windows error " + strconv.Itoa(int(e))
}

const (
	winErrInvalidFunction  winErrno = 1
	winErrFileNotFound     winErrno = 2
	winErrPathNotFound     winErrno = 3
	winErrAccessDenied     winErrno = 5
	winErrNotReady         winErrno = 21
	winErrSharingViolation winErrno = 32
)

// winHandle is a Windows HANDLE.
type winHandle uintptr

// winOS is what the disk code asks of Windows. The real one is in windows.go; errors
// are winErrno values.
type winOS interface {
	// CreateFile opens path (OPEN_EXISTING, sharing reads and writes) with access.
	CreateFile(path string, access uint32) (winHandle, error)
	DeviceIoControl(h winHandle, code uint32, in, out []byte) (int, error)
	CloseHandle(h winHandle)
	// LogicalDrives is GetLogicalDrives: bit i set when drive letter 'A'+i exists.
	LogicalDrives() uint32
	// SystemDrive is %SystemDrive%, "C:" when unset.
	SystemDrive() string
	// Elevated reports whether the process runs as Administrator (an elevated token).
	Elevated() bool
}

var physRE = regexp.MustCompile(`(?i)^\\\\\.\\PhysicalDrive([0-9]+)$`)

// winDisks is the Windows disk code over a winOS.
type winDisks struct{ sys winOS }

// diskError explains a failure to open or query a disk.
func (w winDisks) diskError(path string, what i18n.Message, err error) error {
	var code winErrno
	if !errors.As(err, &code) {
		return errorf(err, "target.error.failed", path, what, err)
	}
	switch code {
	case winErrAccessDenied:
		if !w.sys.Elevated() {
			return errorf(ErrNeedAdmin, "target.error.need_admin_windows", path)
		}
		return refused(path, i18n.M("target.refused.win_denied", what), i18n.M("target.hint.win_denied"))
	case winErrFileNotFound, winErrPathNotFound:
		return errorf(code, "target.error.no_such_disk", path, "Get-Disk")
	case winErrSharingViolation:
		return refused(path, i18n.M("target.refused.win_open", what), i18n.M("target.hint.win_open"))
	case winErrNotReady:
		return errorf(code, "target.error.not_ready", path, code)
	}
	return errorf(code, "target.error.failed", path, what, code)
}

// volumeDisks returns the disk numbers a volume (\\.\C:) spans.
func (w winDisks) volumeDisks(vol string) []int {
	h, err := w.sys.CreateFile(vol, 0)
	if err != nil {
		return nil
	}
	defer w.sys.CloseHandle(h)
	out := make([]byte, 8+24*16)
	n, err := w.sys.DeviceIoControl(h, ioctlVolumeGetVolumeDiskExtents, nil, out)
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
func (w winDisks) lettersOn(d int) []string {
	mask := w.sys.LogicalDrives()
	var out []string
	for i := 0; i < 26; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		l := string(rune('A'+i)) + ":"
		for _, n := range w.volumeDisks(`\\.\` + l) {
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

// inspect describes a physical drive. It opens the disk for reading, which
// IOCTL_DISK_GET_LENGTH_INFO needs (FILE_READ_ACCESS) and Windows grants to
// Administrators only.
func (w winDisks) inspect(path string) (*Info, error) {
	m := physRE.FindStringSubmatch(path)
	if m == nil {
		return nil, refused(path, i18n.M("target.refused.not_whole_disk", `\\.\PhysicalDriveN`), i18n.M("target.hint.list_disks_windows", "Get-Disk"))
	}
	num, _ := strconv.Atoi(m[1])
	h, err := w.sys.CreateFile(path, winGenericRead)
	if err != nil {
		return nil, w.diskError(path, i18n.M("target.doing.open_read"), err)
	}
	defer w.sys.CloseHandle(h)
	info := &Info{Path: path, Kind: BlockDevice, RawPath: path}
	lenOut := make([]byte, 8)
	if _, err := w.sys.DeviceIoControl(h, ioctlDiskGetLengthInfo, nil, lenOut); err != nil {
		return nil, w.diskError(path, i18n.M("target.doing.size"), err)
	}
	info.Size = int64(binary.LittleEndian.Uint64(lenOut))
	geo := make([]byte, 32) // DISK_GEOMETRY_EX: DISK_GEOMETRY (BytesPerSector at 20), DiskSize
	if n, err := w.sys.DeviceIoControl(h, ioctlDiskGetDriveGeometryEx, nil, geo); err == nil && n >= 24 {
		if bps := binary.LittleEndian.Uint32(geo[20:]); bps == 512 || bps == 4096 {
			info.SectorSize = int(bps)
		}
	}
	q := make([]byte, 12) // StorageDeviceProperty, PropertyStandardQuery
	desc := make([]byte, 1024)
	if n, err := w.sys.DeviceIoControl(h, ioctlStorageQueryProperty, q, desc); err == nil && n >= 32 {
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
	sysDrive := w.sys.SystemDrive()
	for _, d := range w.volumeDisks(`\\.\` + sysDrive) {
		if d == num {
			info.System = "Windows (" + sysDrive + ") is on it"
		}
	}
	for _, l := range w.lettersOn(num) {
		info.Partitions = append(info.Partitions, Partition{Path: l, Mounts: []string{l + `\`}})
	}
	return info, nil
}

// open opens a disk inspected before: for reading, or for reading and writing after
// locking and dismounting its volumes (FSCTL_LOCK_VOLUME and FSCTL_DISMOUNT_VOLUME need
// a volume handle opened for reading and writing). The locks hold until the handles in
// locks are closed.
func (w winDisks) open(info *Info, opt Options) (disk winHandle, locks []winHandle, err error) {
	closeLocks := func() {
		for _, h := range locks {
			w.sys.CloseHandle(h)
		}
		locks = nil
	}
	access := uint32(winGenericRead)
	if opt.Write {
		access |= winGenericWrite
		if opt.Partition == 0 {
			num, _ := strconv.Atoi(physRE.FindStringSubmatch(info.Path)[1])
			for _, l := range w.lettersOn(num) {
				h, err := w.sys.CreateFile(`\\.\`+l, winGenericRead|winGenericWrite)
				if err != nil {
					closeLocks()
					return 0, nil, w.diskError(info.Path, i18n.M("target.doing.open_volume", l), err)
				}
				if _, err := w.sys.DeviceIoControl(h, fsctlLockVolume, nil, nil); err != nil {
					w.sys.CloseHandle(h)
					closeLocks()
					return 0, nil, refused(info.Path, i18n.M("target.refused.win_locked", l), i18n.M("target.hint.win_locked", l))
				}
				if _, err := w.sys.DeviceIoControl(h, fsctlDismountVolume, nil, nil); err != nil {
					w.sys.CloseHandle(h)
					closeLocks()
					return 0, nil, w.diskError(info.Path, i18n.M("target.doing.dismount_volume", l), err)
				}
				locks = append(locks, h)
			}
		}
	}
	h, err := w.sys.CreateFile(info.RawPath, access)
	if err != nil {
		closeLocks()
		what := i18n.M("target.doing.open_read")
		if opt.Write {
			what = i18n.M("target.doing.open_write")
		}
		return 0, nil, w.diskError(info.Path, what, err)
	}
	return h, locks, nil
}

// list returns the physical drives that exist (\\.\PhysicalDrive0..63). Opening
// with no access rights works without Administrator rights: reading them may not.
func (w winDisks) list() []string {
	var out []string
	for i := 0; i < 64; i++ {
		p := `\\.\PhysicalDrive` + strconv.Itoa(i)
		h, err := w.sys.CreateFile(p, 0)
		if err != nil {
			continue
		}
		w.sys.CloseHandle(h)
		out = append(out, p)
	}
	return out
}
