package target

// macOS disks (/dev/diskN, written through /dev/rdiskN), written over macOS, the one
// program they need (diskutil), so that what is asked of it and how its answers and
// failures are read are unit-tested on every system (macdisk_test.go, against diskutil
// property lists in testdata/diskutil). This code has never run on a real Mac.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"travelkit/i18n"
)

// macOS runs diskutil. Its error, on failure, holds what diskutil printed.
type macOS interface {
	Diskutil(args ...string) ([]byte, error)
	// Executable is the running program's path (os.Executable), to tell a person
	// running travelkit from the kit itself why the kit cannot be unmounted.
	Executable() string
}

var macDiskRE = regexp.MustCompile(`^/dev/r?disk([0-9]+)$`)

type macDisks struct{ sys macOS }

func (m macDisks) plist(args ...string) (map[string]any, error) {
	out, err := m.sys.Diskutil(append(args[:len(args):len(args)], "-plist")...)
	if err != nil {
		return nil, errorf(err, "target.error.diskutil", strings.Join(args, " "), err)
	}
	v, err := parsePlist(out)
	if err != nil {
		return nil, err
	}
	mp, _ := v.(map[string]any)
	if mp == nil {
		return nil, errorf(nil, "target.error.diskutil_output", strings.Join(args, " "))
	}
	return mp, nil
}

// systemDisks returns the whole disks that hold "/" (through APFS physical stores).
func (m macDisks) systemDisks() map[string]bool {
	out := map[string]bool{}
	root, err := m.plist("info", "/")
	if err != nil {
		return out
	}
	parent := plistString(root, "ParentWholeDisk")
	if parent == "" {
		return out
	}
	out[parent] = true
	if pm, err := m.plist("info", parent); err == nil {
		stores, _ := pm["APFSPhysicalStores"].([]any)
		for _, s := range stores {
			if sm, ok := s.(map[string]any); ok {
				if id := plistString(sm, "APFSPhysicalStore"); id != "" {
					if im, err := m.plist("info", id); err == nil {
						out[plistString(im, "ParentWholeDisk")] = true
					}
				}
			}
		}
	}
	return out
}

func (m macDisks) inspect(path string) (*Info, error) {
	mm := macDiskRE.FindStringSubmatch(path)
	if mm == nil {
		return nil, refused(path, i18n.M("target.refused.not_whole_disk", "/dev/diskN"), i18n.M("target.hint.list_disks", "diskutil list external"))
	}
	id := "disk" + mm[1]
	im, err := m.plist("info", "/dev/"+id)
	if err != nil {
		return nil, err
	}
	if !plistBool(im, "WholeDisk") {
		return nil, refused(path, i18n.M("target.refused.partition"), i18n.M("target.hint.whole_disk", "/dev/"+plistString(im, "ParentWholeDisk")))
	}
	info := &Info{Path: path, Kind: BlockDevice, RawPath: "/dev/r" + id}
	info.Size = plistInt(im, "TotalSize")
	if info.Size == 0 {
		info.Size = plistInt(im, "Size")
	}
	info.Model = plistString(im, "MediaName")
	info.SectorSize = int(plistInt(im, "DeviceBlockSize"))
	info.Serial = plistString(im, "DiskUUID")
	info.Transport = strings.ToLower(plistString(im, "BusProtocol"))
	info.Removable = plistBool(im, "RemovableMedia") || plistBool(im, "Ejectable") || !plistBool(im, "Internal")
	if m.systemDisks()[id] {
		info.System = "the running system's volume is on it"
	}
	if lm, err := m.plist("list", "/dev/"+id); err == nil {
		all, _ := lm["AllDisksAndPartitions"].([]any)
		for _, d := range all {
			dm, _ := d.(map[string]any)
			if dm == nil || plistString(dm, "DeviceIdentifier") != id {
				continue
			}
			parts, _ := dm["Partitions"].([]any)
			for i, p := range parts {
				pm, _ := p.(map[string]any)
				if pm == nil {
					continue
				}
				part := Partition{Number: i + 1, Path: "/dev/" + plistString(pm, "DeviceIdentifier"), Label: plistString(pm, "VolumeName"), FSType: plistString(pm, "Content")}
				if mp := plistString(pm, "MountPoint"); mp != "" {
					part.Mounts = []string{mp}
				}
				info.Partitions = append(info.Partitions, part)
			}
		}
	}
	return info, nil
}

// unmount unmounts every volume of the disk (diskutil unmountDisk) before a raw write:
// macOS mounts a kit's TRAVELKIT partition by itself, and /dev/rdiskN cannot be written
// while a volume of the disk is mounted, not even for a backup into partition 2. It
// reports whether something was mounted, so that mountAgain can bring it back.
func (m macDisks) unmount(info *Info) (wasMounted bool, err error) {
	for _, p := range info.Partitions {
		wasMounted = wasMounted || len(p.Mounts) > 0
	}
	out, err := m.sys.Diskutil("unmountDisk", info.Path)
	if err == nil {
		return wasMounted, nil
	}
	msg := strings.TrimSpace(strings.Join(strings.Fields(string(out)+" "+err.Error()), " "))
	hint := i18n.M("target.hint.mac_busy")
	exe := m.sys.Executable()
	for _, p := range info.Partitions {
		for _, mp := range p.Mounts {
			if exe != "" && strings.HasPrefix(exe, strings.TrimSuffix(mp, "/")+"/") {
				hint = i18n.M("target.hint.mac_self", mp, "cp "+exe+" ~/travelkit", "~/travelkit")
			}
		}
	}
	if pid := dissenterRE.FindStringSubmatch(msg); pid != nil {
		hint = i18n.M("target.hint.mac_dissenter", filepath.Base(pid[2]), pid[1])
	}
	return false, refused(info.Path, i18n.M("target.refused.mac_busy", msg), hint)
}

// dissenterRE finds the program diskutil names when it refuses to unmount.
var dissenterRE = regexp.MustCompile(`dissented by PID ([0-9]+) \(([^)]*)\)`)

// mountAgain mounts the disk's volumes again after the write, as Finder had them.
func (m macDisks) mountAgain(info *Info) { m.sys.Diskutil("mountDisk", info.Path) }

// list returns the external physical disks (diskutil list external physical).
func (m macDisks) list() ([]string, error) {
	lm, err := m.plist("list", "external", "physical")
	if err != nil {
		return nil, err
	}
	whole, _ := lm["WholeDisks"].([]any)
	var out []string
	for _, w := range whole {
		if s, ok := w.(string); ok {
			out = append(out, "/dev/"+s)
		}
	}
	return out, nil
}

// macDisk is an open raw disk that mounts the volumes it unmounted when closed.
type macDisk struct {
	rawDevice
	m       macDisks
	info    *Info
	remount bool
}

func (d *macDisk) Close() error {
	err := d.rawDevice.Close()
	if d.remount {
		d.m.mountAgain(d.info)
	}
	return err
}

// open opens the raw disk through the open function given, after unmounting for a write.
func (m macDisks) open(info *Info, opt Options, open func(path string, flag int) (rawDevice, error)) (rawDevice, error) {
	flag := os.O_RDONLY
	remount := false
	if opt.Write {
		flag = os.O_RDWR
		var err error
		if remount, err = m.unmount(info); err != nil {
			return nil, err
		}
	}
	dev, err := open(info.RawPath, flag)
	if err != nil {
		if remount {
			m.mountAgain(info)
		}
		if os.IsPermission(err) {
			return nil, errorf(ErrNeedAdmin, "target.error.need_admin_sudo", info.Path)
		}
		return nil, err
	}
	return &macDisk{rawDevice: dev, m: m, info: info, remount: remount && opt.Partition != 0}, nil
}
