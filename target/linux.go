//go:build linux

package target

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"travelkit/i18n"
)

const exampleDisk = "/dev/sdb"

// autoUnmount: on Linux mounted partitions are refused, never unmounted behind the person's back.
const autoUnmount = false

// sysRoot and procRoot can be redirected by tests.
var (
	sysRoot  = "/sys"
	procRoot = "/proc"
	runRoot  = "/run"
)

func isDevicePath(p string) bool { return strings.HasPrefix(p, "/dev/") }

func unmountHint(m string) string { return "umount " + m }

// mount is one line of mountinfo reduced to what the checks need.
type mount struct {
	dev   string // "major:minor"
	point string
	src   string
}

func readMounts() ([]mount, error) {
	f, err := os.Open(filepath.Join(procRoot, "self/mountinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		m := mount{dev: fs[2], point: unescapeMount(fs[4])}
		for i, x := range fs {
			if x == "-" && i+2 < len(fs) {
				m.src = fs[i+2]
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func readSwaps() []string {
	b, err := os.ReadFile(filepath.Join(procRoot, "swaps"))
	if err != nil {
		return nil
	}
	var out []string
	for i, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); i > 0 && len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

func sysRead(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// udevProps reads udev's database entry for a block device (E: lines).
func udevProps(majmin string) map[string]string {
	props := map[string]string{}
	b, err := os.ReadFile(filepath.Join(runRoot, "udev/data/b"+majmin))
	if err != nil {
		return props
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(l, "E:"), "="); ok && strings.HasPrefix(l, "E:") {
			props[k] = v
		}
	}
	return props
}

// blockNode describes one node under /sys/class/block.
type blockNode struct {
	name   string // sdb, sdb1, dm-0
	majmin string
	sys    string // /sys/class/block/<name> resolved
}

func nodeByName(name string) (blockNode, error) {
	p := filepath.Join(sysRoot, "class/block", name)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return blockNode{}, err
	}
	return blockNode{name: name, majmin: sysRead(filepath.Join(real, "dev")), sys: real}, nil
}

// describeHolder says what a holder (dm-N, mdN, ...) is.
func describeHolder(name string) Holder {
	switch {
	case strings.HasPrefix(name, "dm-"):
		n, _ := nodeByName(name)
		dmName := sysRead(filepath.Join(n.sys, "dm/name"))
		uuid := sysRead(filepath.Join(n.sys, "dm/uuid"))
		switch {
		case strings.HasPrefix(uuid, "CRYPT-"):
			return Holder{Kind: "crypt", Name: dmName, Dev: "/dev/mapper/" + dmName}
		case strings.HasPrefix(uuid, "LVM-"):
			return Holder{Kind: "lvm", Name: dmName, Dev: "/dev/mapper/" + dmName}
		}
		return Holder{Kind: "dm", Name: name, Dev: "/dev/mapper/" + dmName}
	case strings.HasPrefix(name, "md"):
		return Holder{Kind: "raid", Name: name, Dev: "/dev/" + name}
	}
	return Holder{Name: name}
}

// stackedMounts returns mount points of a node and of every device stacked on it
// (dm-crypt, LVM, RAID), and the descriptions of its direct holders.
func stackedMounts(n blockNode, mounts []mount, swaps []string, depth int) (mps []string, holders []Holder) {
	for _, m := range mounts {
		if m.dev == n.majmin {
			mps = append(mps, m.point)
		}
	}
	for _, s := range swaps {
		if s == "/dev/"+n.name {
			mps = append(mps, "[swap]")
		}
	}
	if depth > 8 {
		return
	}
	ents, _ := os.ReadDir(filepath.Join(n.sys, "holders"))
	for _, e := range ents {
		holders = append(holders, describeHolder(e.Name()))
		if h, err := nodeByName(e.Name()); err == nil {
			sub, _ := stackedMounts(h, mounts, swaps, depth+1)
			mps = append(mps, sub...)
		}
	}
	return
}

// rootDisks returns the names of the whole disks under "/" (following dm/md slaves).
func rootDisks(mounts []mount) map[string]string {
	out := map[string]string{}
	for _, m := range mounts {
		if m.point != "/" && m.point != "/boot" && m.point != "/usr" {
			continue
		}
		p := filepath.Join(sysRoot, "dev/block", m.dev)
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		for _, d := range diskOf(real, 0) {
			out[d] = m.point + " is on " + m.src
		}
	}
	return out
}

// diskOf maps a sysfs block node to the whole disks it lives on.
func diskOf(sys string, depth int) []string {
	if depth > 8 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		return []string{filepath.Base(filepath.Dir(sys))}
	}
	slaves, _ := os.ReadDir(filepath.Join(sys, "slaves"))
	if len(slaves) == 0 {
		return []string{filepath.Base(sys)}
	}
	var out []string
	for _, s := range slaves {
		if n, err := nodeByName(s.Name()); err == nil {
			out = append(out, diskOf(n.sys, depth+1)...)
		}
	}
	return out
}

func inspectDisk(path string) (*Info, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(real, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return nil, refused(path, i18n.M("target.refused.not_block_device"), noHint)
	}
	majmin := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	sys, err := filepath.EvalSymlinks(filepath.Join(sysRoot, "dev/block", majmin))
	if err != nil {
		return nil, errorf(err, "target.error.no_device", path, majmin, err)
	}
	name := filepath.Base(sys)
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		parent := filepath.Base(filepath.Dir(sys))
		return nil, refused(path, i18n.M("target.refused.partition"), i18n.M("target.hint.whole_disk", "/dev/"+parent))
	}
	if strings.HasPrefix(name, "dm-") || strings.HasPrefix(name, "md") {
		return nil, refused(path, i18n.M("target.refused.mapped"), noHint)
	}
	info := &Info{Path: path, Kind: BlockDevice, RawPath: real}
	sectors, _ := strconv.ParseInt(sysRead(filepath.Join(sys, "size")), 10, 64)
	info.Size = sectors * 512
	info.Removable = sysRead(filepath.Join(sys, "removable")) == "1"
	info.SectorSize, _ = strconv.Atoi(sysRead(filepath.Join(sys, "queue/logical_block_size")))
	props := udevProps(majmin)
	info.Model = firstNonEmpty(sysRead(filepath.Join(sys, "device/model")), props["ID_MODEL"])
	info.Serial = firstNonEmpty(props["ID_SERIAL_SHORT"], props["ID_SERIAL"], sysRead(filepath.Join(sys, "device/serial")), sysRead(filepath.Join(sys, "serial")), sysRead(filepath.Join(sys, "wwid")))
	info.Transport = props["ID_BUS"]
	switch {
	case strings.HasPrefix(name, "loop"):
		info.Transport = "loop"
		info.Model = "loop device"
		info.Serial = sysRead(filepath.Join(sys, "loop/backing_file"))
		info.Removable = true // a loop device is a file, not someone's internal disk
	case strings.HasPrefix(name, "mmcblk"):
		info.Transport = "mmc"
		info.Removable = true
	case strings.HasPrefix(name, "nvme"):
		info.Transport = firstNonEmpty(info.Transport, "nvme")
	}
	if info.Transport == "usb" {
		info.Removable = true // USB hard drives report removable=0 but are what kits are made on
	}
	mounts, err := readMounts()
	if err != nil {
		return nil, errorf(err, "target.error.mount_table", err)
	}
	swaps := readSwaps()
	if why, ok := rootDisks(mounts)[name]; ok {
		info.System = why
	}
	node := blockNode{name: name, majmin: majmin, sys: sys}
	info.Mounts, info.Holders = stackedMounts(node, mounts, swaps, 0)
	ents, _ := os.ReadDir(sys)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), name) {
			continue
		}
		pn, err := nodeByName(e.Name())
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(pn.sys, "partition")); err != nil {
			continue
		}
		pp := udevProps(pn.majmin)
		num, _ := strconv.Atoi(sysRead(filepath.Join(pn.sys, "partition")))
		part := Partition{Number: num, Path: "/dev/" + e.Name(), Label: firstNonEmpty(pp["ID_FS_LABEL"], pp["ID_PART_ENTRY_NAME"]), FSType: pp["ID_FS_TYPE"]}
		part.Mounts, part.Holders = stackedMounts(pn, mounts, swaps, 0)
		info.Partitions = append(info.Partitions, part)
	}
	return info, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// inspectImageUse finds loop devices backed by the image file and reports them as
// holders, with their mounts: the kernel must not be using the file while travelkit writes.
func inspectImageUse(info *Info) error {
	st, err := os.Stat(info.Path)
	if err != nil {
		return err
	}
	ents, _ := os.ReadDir(filepath.Join(sysRoot, "class/block"))
	mounts, _ := readMounts()
	swaps := readSwaps()
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "loop") {
			continue
		}
		n, err := nodeByName(e.Name())
		if err != nil {
			continue
		}
		bf := strings.TrimSuffix(sysRead(filepath.Join(n.sys, "loop/backing_file")), " (deleted)")
		if bf == "" {
			continue
		}
		bst, err := os.Stat(bf)
		if err != nil || !os.SameFile(st, bst) {
			continue
		}
		mps, holders := stackedMounts(n, mounts, swaps, 0)
		info.Holders = append(info.Holders, holders...)
		for _, m := range mps {
			info.Mounts = append(info.Mounts, m+" (through /dev/"+e.Name()+")")
		}
		// partitions of the loop device
		parts, _ := os.ReadDir(n.sys)
		for _, p := range parts {
			if !strings.HasPrefix(p.Name(), e.Name()+"p") {
				continue
			}
			pn, err := nodeByName(p.Name())
			if err != nil {
				continue
			}
			mps, hs := stackedMounts(pn, mounts, swaps, 0)
			if len(mps)+len(hs) > 0 {
				num, _ := strconv.Atoi(sysRead(filepath.Join(pn.sys, "partition")))
				info.Partitions = append(info.Partitions, Partition{Number: num, Path: "/dev/" + p.Name(), Mounts: mps, Holders: hs})
			}
		}
	}
	return nil
}

type linuxDisk struct{ *os.File }

func openDisk(info *Info, opt Options) (rawDevice, error) {
	flag := os.O_RDONLY
	switch {
	case opt.Write && opt.Partition == 0:
		// O_EXCL on a block device: the kernel refuses while it is mounted or held.
		flag = os.O_RDWR | unix.O_EXCL
	case opt.Write:
		// Only one partition will be written: the others may be mounted (travelkit may
		// be running from the tools partition), which makes O_EXCL on the whole disk
		// fail. Open has just checked that that partition is neither mounted nor held.
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(info.RawPath, flag, 0)
	if err != nil {
		if os.IsPermission(err) {
			return nil, errorf(ErrNeedAdmin, "target.error.need_admin_sudo", info.Path)
		}
		if err == unix.EBUSY || strings.Contains(err.Error(), "device or resource busy") {
			return nil, refused(info.Path, i18n.M("target.refused.busy"), i18n.M("target.hint.busy"))
		}
		return nil, err
	}
	return linuxDisk{f}, nil
}

// ListDisks returns the whole disks of the machine (not partitions, not device-mapper or
// RAID devices; loop devices only when they are backed by a file).
func ListDisks() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(sysRoot, "block"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, "dm-"), strings.HasPrefix(n, "md"), strings.HasPrefix(n, "ram"),
			strings.HasPrefix(n, "zram"), strings.HasPrefix(n, "sr"), strings.HasPrefix(n, "fd"):
			continue
		case strings.HasPrefix(n, "loop"):
			if sysRead(filepath.Join(sysRoot, "block", n, "loop/backing_file")) == "" {
				continue
			}
		}
		if sysRead(filepath.Join(sysRoot, "block", n, "size")) == "0" {
			continue
		}
		out = append(out, "/dev/"+n)
	}
	return out, nil
}
