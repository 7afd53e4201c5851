//go:build darwin

package target

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

const exampleDisk = "/dev/disk4"

// autoUnmount: macOS mounts a stick's FAT partition by itself; Open unmounts the whole
// disk (diskutil unmountDisk) once the plan was accepted.
const autoUnmount = true

var diskRE = regexp.MustCompile(`^/dev/r?disk([0-9]+)$`)

func isDevicePath(p string) bool { return strings.HasPrefix(p, "/dev/") }

func unmountHint(m string) string { return "diskutil unmount " + m }

func diskutilPlist(args ...string) (map[string]any, error) {
	out, err := exec.Command("diskutil", append(args[:len(args):len(args)], "-plist")...).Output()
	if err != nil {
		return nil, fmt.Errorf("diskutil %s: %w", strings.Join(args, " "), err)
	}
	v, err := parsePlist(out)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		return nil, fmt.Errorf("diskutil %s: unexpected output", strings.Join(args, " "))
	}
	return m, nil
}

// systemDisks returns the whole disks that hold "/" (through APFS physical stores).
func systemDisks() map[string]bool {
	out := map[string]bool{}
	root, err := diskutilPlist("info", "/")
	if err != nil {
		return out
	}
	parent := plistString(root, "ParentWholeDisk")
	if parent == "" {
		return out
	}
	out[parent] = true
	if pm, err := diskutilPlist("info", parent); err == nil {
		stores, _ := pm["APFSPhysicalStores"].([]any)
		for _, s := range stores {
			if sm, ok := s.(map[string]any); ok {
				if id := plistString(sm, "APFSPhysicalStore"); id != "" {
					if im, err := diskutilPlist("info", id); err == nil {
						out[plistString(im, "ParentWholeDisk")] = true
					}
				}
			}
		}
	}
	return out
}

func inspectDisk(path string) (*Info, error) {
	m := diskRE.FindStringSubmatch(path)
	if m == nil {
		return nil, &RefusedError{Path: path, Reason: "not a whole disk (expected /dev/diskN)", Hint: "list disks with: diskutil list external"}
	}
	id := "disk" + m[1]
	im, err := diskutilPlist("info", "/dev/"+id)
	if err != nil {
		return nil, err
	}
	if !plistBool(im, "WholeDisk") {
		return nil, &RefusedError{Path: path, Reason: "it is a partition, not a whole disk", Hint: "give the whole disk: /dev/" + plistString(im, "ParentWholeDisk")}
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
	if systemDisks()[id] {
		info.System = "the running system's volume is on it"
	}
	if lm, err := diskutilPlist("list", "/dev/"+id); err == nil {
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

func inspectImageUse(info *Info) error { return nil }

func openDisk(info *Info, opt Options) (rawDevice, error) {
	flag := os.O_RDONLY
	if opt.Write {
		flag = os.O_RDWR
		if !opt.DataOnly {
			if out, err := exec.Command("diskutil", "unmountDisk", info.Path).CombinedOutput(); err != nil {
				return nil, &RefusedError{Path: info.Path, Reason: "diskutil unmountDisk failed: " + strings.TrimSpace(string(out)), Hint: "close what uses the drive (Finder windows, open files), then try again"}
			}
		}
	}
	f, err := os.OpenFile(info.RawPath, flag, 0)
	if err != nil {
		if os.IsPermission(err) {
			return nil, fmt.Errorf("%s: %w: run the command with sudo", info.Path, ErrNeedAdmin)
		}
		return nil, err
	}
	return newAligned(f, 4096), nil
}

// ListDisks returns the external physical disks (diskutil list external physical).
func ListDisks() ([]string, error) {
	m, err := diskutilPlist("list", "external", "physical")
	if err != nil {
		return nil, err
	}
	whole, _ := m["WholeDisks"].([]any)
	var out []string
	for _, w := range whole {
		if s, ok := w.(string); ok {
			out = append(out, "/dev/"+s)
		}
	}
	return out, nil
}
