package target

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"travelkit/i18n"
)

// fakeWindows is winOS as Windows behaves for the calls the disk code makes: opening a
// physical drive or a volume with any rights needs Administrator rights (opening with
// none does not), and a control code fails with ERROR_ACCESS_DENIED unless the handle
// has the rights Microsoft documents for it.
type fakeWindows struct {
	admin      bool
	denyAdmin  bool // Administrator, yet opening the disk is denied (another program holds it)
	lockBusy   bool // files are open on the volumes
	disks      map[int]fakeDisk
	volumes    map[string]int // "E:" -> disk number
	handles    map[winHandle]fakeHandle
	next       winHandle
	calls      []string
	openLocked []string
	extra      map[uint32]uint32 // more control codes: the rights they need
}

type fakeDisk struct {
	size                     int64
	sector                   uint32
	vendor, product, serial  string
	bus                      uint32
	removable                bool
	missingGeometry, notHere bool
}

type fakeHandle struct {
	path   string
	access uint32
}

func newFakeWindows(admin bool) *fakeWindows {
	return &fakeWindows{admin: admin,
		disks: map[int]fakeDisk{
			0: {size: 512 << 30, sector: 512, vendor: "NVMe", product: "Laptop SSD", serial: "S0", bus: busNVMe},
			1: {size: 64 << 30, sector: 512, vendor: "SanDisk", product: "Ultra", serial: "4C530001", bus: busUSB, removable: true},
		},
		volumes: map[string]int{"C:": 0, "E:": 1},
		handles: map[winHandle]fakeHandle{}, next: 100}
}

// neededRights is what Microsoft documents for each control code.
var neededRights = map[uint32]uint32{
	ioctlDiskGetLengthInfo:          winGenericRead,
	ioctlDiskGetDriveGeometryEx:     winGenericRead,
	ioctlStorageQueryProperty:       0,
	ioctlVolumeGetVolumeDiskExtents: 0,
	fsctlLockVolume:                 winGenericRead | winGenericWrite,
	fsctlDismountVolume:             winGenericRead | winGenericWrite,
}

// neededRights adds a control code to what the fake knows, with the rights it needs.
func (f *fakeWindows) neededRights(code, rights uint32) {
	if f.extra == nil {
		f.extra = map[uint32]uint32{}
	}
	f.extra[code] = rights
}

func (f *fakeWindows) CreateFile(path string, access uint32) (winHandle, error) {
	f.calls = append(f.calls, fmt.Sprintf("open %s %#x", path, access))
	if m := physRE.FindStringSubmatch(path); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		if _, ok := f.disks[n]; !ok {
			return 0, winErrFileNotFound
		}
	} else if _, ok := f.volumes[strings.TrimPrefix(path, `\\.\`)]; !ok {
		return 0, winErrFileNotFound
	}
	if access != 0 && (!f.admin || f.denyAdmin) {
		return 0, winErrAccessDenied
	}
	f.next++
	f.handles[f.next] = fakeHandle{path: path, access: access}
	return f.next, nil
}

func (f *fakeWindows) DeviceIoControl(h winHandle, code uint32, in, out []byte) (int, error) {
	fh, ok := f.handles[h]
	if !ok {
		return 0, fmt.Errorf("invalid handle %d", h)
	}
	f.calls = append(f.calls, fmt.Sprintf("ioctl %s %#x access %#x", fh.path, code, fh.access))
	need, known := neededRights[code]
	if r, ok := f.extra[code]; ok {
		need, known = r, true
	}
	if !known {
		return 0, winErrInvalidFunction
	}
	if fh.access&need != need {
		return 0, winErrAccessDenied
	}
	if _, ok := f.extra[code]; ok {
		return 0, nil
	}
	vol := strings.TrimPrefix(fh.path, `\\.\`)
	if num, ok := f.volumes[vol]; ok {
		switch code {
		case ioctlVolumeGetVolumeDiskExtents:
			binary.LittleEndian.PutUint32(out, 1)
			binary.LittleEndian.PutUint32(out[8:], uint32(num))
			return 32, nil
		case fsctlLockVolume:
			if f.lockBusy {
				return 0, winErrAccessDenied
			}
			f.openLocked = append(f.openLocked, vol)
			return 0, nil
		case fsctlDismountVolume:
			return 0, nil
		}
		return 0, winErrInvalidFunction
	}
	var n int
	fmt.Sscan(physRE.FindStringSubmatch(fh.path)[1], &n)
	d := f.disks[n]
	switch code {
	case ioctlDiskGetLengthInfo:
		binary.LittleEndian.PutUint64(out, uint64(d.size))
		return 8, nil
	case ioctlDiskGetDriveGeometryEx:
		if d.missingGeometry {
			return 0, winErrInvalidFunction
		}
		binary.LittleEndian.PutUint32(out[20:], d.sector)
		binary.LittleEndian.PutUint64(out[24:], uint64(d.size))
		return 32, nil
	case ioctlStorageQueryProperty:
		// STORAGE_DEVICE_DESCRIPTOR: RemovableMedia at 10, offsets of vendor 12,
		// product 16, serial 24, BusType 28; strings after the fixed part
		b := out[:200]
		if d.removable {
			b[10] = 1
		}
		off := 40
		for _, s := range []struct {
			at int
			v  string
		}{{12, d.vendor}, {16, d.product}, {24, d.serial}} {
			binary.LittleEndian.PutUint32(b[s.at:], uint32(off))
			off += copy(b[off:], s.v) + 1
		}
		binary.LittleEndian.PutUint32(b[28:], d.bus)
		return off, nil
	}
	return 0, winErrInvalidFunction
}

func (f *fakeWindows) CloseHandle(h winHandle) {
	f.calls = append(f.calls, fmt.Sprintf("close %s", f.handles[h].path))
	delete(f.handles, h)
}

func (f *fakeWindows) LogicalDrives() uint32 {
	var m uint32
	for v := range f.volumes {
		m |= 1 << (v[0] - 'A')
	}
	return m
}

func (f *fakeWindows) SystemDrive() string { return "C:" }
func (f *fakeWindows) Elevated() bool      { return f.admin }

func (f *fakeWindows) leaked(t *testing.T) {
	t.Helper()
	for h, fh := range f.handles {
		t.Errorf("handle %d of %s left open", h, fh.path)
	}
}

// An Administrator inspects a USB stick: every control code is sent on a handle with
// the rights it needs (the disk opened for reading), and the stick is described.
func TestWindowsInspectAsAdministrator(t *testing.T) {
	f := newFakeWindows(true)
	info, err := winDisks{f}.inspect(`\\.\PhysicalDrive1`)
	if err != nil {
		t.Fatalf("%v\ncalls:\n%s", err, strings.Join(f.calls, "\n"))
	}
	if info.Size != 64<<30 || info.SectorSize != 512 || !info.Removable || info.Transport != "usb" ||
		info.Model != "SanDisk Ultra" || info.Serial != "4C530001" || info.System != "" {
		t.Errorf("info: %+v", info)
	}
	if len(info.Partitions) != 1 || info.Partitions[0].Path != "E:" {
		t.Errorf("partitions: %+v", info.Partitions)
	}
	if !strings.Contains(strings.Join(f.calls, "\n"), fmt.Sprintf(`ioctl \\.\PhysicalDrive1 %#x access %#x`, ioctlDiskGetLengthInfo, winGenericRead)) {
		t.Errorf("IOCTL_DISK_GET_LENGTH_INFO not sent on a handle opened for reading:\n%s", strings.Join(f.calls, "\n"))
	}
	f.leaked(t)
	sys, err := winDisks{f}.inspect(`\\.\PhysicalDrive0`)
	if err != nil || sys.System == "" {
		t.Errorf("the disk holding C: is not the system disk: %+v %v", sys, err)
	}
}

// Without Administrator rights the error says so (and matches ErrNeedAdmin, which
// discovery counts); an Administrator who is refused is told something else.
func TestWindowsInspectErrors(t *testing.T) {
	f := newFakeWindows(false)
	_, err := winDisks{f}.inspect(`\\.\PhysicalDrive1`)
	if !errors.Is(err, ErrNeedAdmin) || !strings.Contains(err.Error(), "not running as Administrator") {
		t.Errorf("not an Administrator: %v", err)
	}
	f = newFakeWindows(true)
	f.denyAdmin = true
	_, err = winDisks{f}.inspect(`\\.\PhysicalDrive1`)
	var ref *RefusedError
	if errors.Is(err, ErrNeedAdmin) || !errors.As(err, &ref) || !strings.Contains(ref.Hint, "another program") {
		t.Errorf("Administrator refused: %v", err)
	}
	_, err = winDisks{newFakeWindows(true)}.inspect(`\\.\PhysicalDrive7`)
	var ie *i18n.Error
	if err == nil || !strings.Contains(err.Error(), "no such disk") || !errors.As(err, &ie) {
		t.Errorf("missing disk: %v", err)
	}
	if _, err := (winDisks{newFakeWindows(false)}).inspect(`\\.\PhysicalDrive1`); !errors.As(err, &ie) || ie.Key != "target.error.need_admin_windows" {
		t.Errorf("not an Administrator: %v, want it in the catalogue", err)
	}
	if _, err := (winDisks{f}).inspect(`\\.\E:`); !errors.As(err, &ref) {
		t.Errorf("a volume taken for a disk: %v", err)
	}
	for code, want := range map[winErrno]string{
		winErrSharingViolation: "another program has the disk open",
		winErrNotReady:         "not ready",
		winErrInvalidFunction:  "not supported",
	} {
		err := (winDisks{f}).diskError("D", i18n.M("target.doing.size"), code)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%d: %v, want %q", code, err, want)
		}
		// in the catalogue, for the person's language: a refusal or a message
		var ie *i18n.Error
		if !errors.As(err, &ref) && !errors.As(err, &ie) {
			t.Errorf("%d: %v is English only", code, err)
		}
	}
}

// A geometry the disk does not report leaves the sector size unknown, nothing else.
func TestWindowsInspectWithoutGeometry(t *testing.T) {
	f := newFakeWindows(true)
	d := f.disks[1]
	d.missingGeometry = true
	f.disks[1] = d
	info, err := winDisks{f}.inspect(`\\.\PhysicalDrive1`)
	if err != nil || info.SectorSize != 0 || info.Size != 64<<30 {
		t.Errorf("%+v %v", info, err)
	}
}

// Writing locks and dismounts the disk's volumes through handles opened for reading
// and writing, then opens the disk for reading and writing; data-only writes (backups)
// leave the tools partition mounted; reading opens the disk for reading only.
func TestWindowsOpenRights(t *testing.T) {
	f := newFakeWindows(true)
	w := winDisks{f}
	info, err := w.inspect(`\\.\PhysicalDrive1`)
	if err != nil {
		t.Fatal(err)
	}
	h, locks, err := w.open(info, Options{Write: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(f.calls, "\n"))
	}
	if got := f.handles[h].access; got != winGenericRead|winGenericWrite {
		t.Errorf("disk opened with %#x for writing", got)
	}
	if len(locks) != 1 || strings.Join(f.openLocked, ",") != "E:" {
		t.Errorf("locked %v (%d handles)", f.openLocked, len(locks))
	}
	for _, l := range locks {
		f.CloseHandle(l)
	}
	f.CloseHandle(h)
	f.openLocked = nil
	h, locks, err = w.open(info, Options{Write: true, Partition: 2})
	if err != nil || len(locks) != 0 || len(f.openLocked) != 0 {
		t.Errorf("data-only write: %v, locks %v", err, f.openLocked)
	}
	f.CloseHandle(h)
	h, _, err = w.open(info, Options{})
	if err != nil || f.handles[h].access != winGenericRead {
		t.Errorf("read: %v, access %#x", err, f.handles[h].access)
	}
	f.CloseHandle(h)
	f.leaked(t)

	f.lockBusy = true
	_, _, err = w.open(info, Options{Write: true})
	var ref *RefusedError
	if !errors.As(err, &ref) || !strings.Contains(ref.Reason, "E:") {
		t.Errorf("busy volume: %v", err)
	}
	f.leaked(t)
}

// Listing needs no rights: the disks are there for anyone; reading them is not.
func TestWindowsList(t *testing.T) {
	f := newFakeWindows(false)
	got := winDisks{f}.list()
	if strings.Join(got, " ") != `\\.\PhysicalDrive0 \\.\PhysicalDrive1` {
		t.Errorf("list: %q", got)
	}
	f.leaked(t)
}
