package target

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"travelkit/i18n"
)

// fakeMac answers diskutil from testdata/diskutil (see its README: the shape diskutil
// prints, not recordings) and records the commands.
type fakeMac struct {
	t       *testing.T
	calls   []string
	busy    string // unmountDisk fails with this output
	exe     string
	mounted bool
}

func (f *fakeMac) Diskutil(args ...string) ([]byte, error) {
	cmd := strings.Join(args, " ")
	f.calls = append(f.calls, cmd)
	file := map[string]string{
		"info /dev/disk4 -plist":        "info-disk4.plist",
		"info /dev/disk4s1 -plist":      "info-disk4s1.plist",
		"list /dev/disk4 -plist":        "list-disk4.plist",
		"info / -plist":                 "info-root.plist",
		"info disk3 -plist":             "info-disk3.plist",
		"info disk0s2 -plist":           "info-disk0s2.plist",
		"list external physical -plist": "list-external-physical.plist",
	}[cmd]
	switch {
	case file != "":
		return os.ReadFile(filepath.Join("testdata", "diskutil", file))
	case strings.HasPrefix(cmd, "unmountDisk "):
		if f.busy != "" {
			return []byte(f.busy), errors.New("exit status 1")
		}
		f.mounted = false
		return []byte("Unmount of all volumes on disk4 was successful\n"), nil
	case strings.HasPrefix(cmd, "mountDisk "):
		f.mounted = true
		return []byte("Volume(s) mounted successfully\n"), nil
	}
	return []byte("Could not find disk: " + args[len(args)-1]), errors.New("exit status 1")
}

func (f *fakeMac) Executable() string { return f.exe }

func TestMacInspect(t *testing.T) {
	f := &fakeMac{t: t}
	info, err := macDisks{f}.inspect("/dev/disk4")
	if err != nil {
		t.Fatal(err)
	}
	if info.RawPath != "/dev/rdisk4" || info.Size != 61530439680 || info.SectorSize != 512 || info.Transport != "usb" ||
		!info.Removable || info.Model != "SanDisk Ultra Media" || info.System != "" {
		t.Errorf("info %+v", info)
	}
	if len(info.Partitions) != 2 || info.Partitions[0].Label != "TRAVELKIT" || strings.Join(info.Partitions[0].Mounts, ",") != "/Volumes/TRAVELKIT" ||
		info.Partitions[1].Path != "/dev/disk4s2" || len(info.Partitions[1].Mounts) != 0 {
		t.Errorf("partitions %+v", info.Partitions)
	}
	var ref *RefusedError
	if _, err := (macDisks{f}).inspect("/dev/disk4s1"); !errors.As(err, &ref) {
		t.Errorf("a partition taken for a whole disk: %v", err)
	}
	// diskutil's own words, quoted inside our sentence, which the person reads in their language
	var ie *i18n.Error
	if _, err := (macDisks{f}).inspect("/dev/disk9"); !errors.As(err, &ie) || ie.Key != "target.error.diskutil" ||
		err.Error() != "diskutil info /dev/disk9 failed: “exit status 1”" {
		t.Errorf("a disk diskutil does not know: %v", err)
	}
	if got := (macDisks{f}).systemDisks(); !got["disk3"] || !got["disk0"] || got["disk4"] {
		t.Errorf("system disks %v", got)
	}
	if l, err := (macDisks{f}).list(); err != nil || strings.Join(l, " ") != "/dev/disk4" {
		t.Errorf("list %v %v", l, err)
	}
}

// Every raw write unmounts the disk first, backups (data-only writes) too: macOS mounts
// TRAVELKIT by itself and refuses writes to /dev/rdiskN while it is mounted. After a
// backup the volume is mounted again; reading unmounts nothing.
func TestMacUnmountBeforeEveryWrite(t *testing.T) {
	for _, opt := range []Options{{Write: true}, {Write: true, Partition: 2}, {}} {
		f := &fakeMac{t: t, mounted: true}
		m := macDisks{f}
		info, err := m.inspect("/dev/disk4")
		if err != nil {
			t.Fatal(err)
		}
		f.calls = nil
		var opened string
		dev, err := m.open(info, opt, func(p string, flag int) (rawDevice, error) {
			opened = p
			if opt.Write && f.mounted {
				t.Errorf("%+v: %s opened while its volumes are mounted", opt, p)
			}
			return nopSyncCloser{nil}, nil
		})
		if err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		unmounted := strings.Contains(strings.Join(f.calls, "\n"), "unmountDisk /dev/disk4")
		if unmounted != opt.Write || opened != "/dev/rdisk4" {
			t.Errorf("%+v: calls %q, opened %s", opt, f.calls, opened)
		}
		dev.Close()
		if opt.Partition != 0 && !f.mounted {
			t.Errorf("%+v: TRAVELKIT not mounted again after the backup", opt)
		}
	}
}

// A busy disk is refused with what holds it.
func TestMacBusy(t *testing.T) {
	f := &fakeMac{t: t, busy: "Unmount of disk4 failed: at least one volume could not be unmounted\nUnmount was dissented by PID 512 (/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder)\n"}
	m := macDisks{f}
	info, err := m.inspect("/dev/disk4")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.open(info, Options{Write: true, Partition: 2}, func(string, int) (rawDevice, error) {
		t.Error("opened although busy")
		return nil, nil
	})
	var ref *RefusedError
	if !errors.As(err, &ref) || !strings.Contains(ref.Reason, "busy") || !strings.Contains(ref.Hint, "Finder (process 512)") ||
		!strings.Contains(ref.Reason, "(diskutil: “Unmount of disk4 failed: at least one volume could not be unmounted Unmount was dissented by PID 512") {
		t.Errorf("busy: %v (%+v)", err, ref)
	}
	// travelkit running from the kit's own tools partition
	f.busy = "Unmount of disk4 failed: at least one volume could not be unmounted\n"
	f.exe = "/Volumes/TRAVELKIT/bin/darwin-arm64/travelkit"
	_, err = m.open(info, Options{Write: true}, nil)
	if !errors.As(err, &ref) || !strings.Contains(ref.Hint, "copy it to this Mac first") {
		t.Errorf("running from the kit: %v", err)
	}
	// no rights
	f.busy, f.exe = "", ""
	_, err = m.open(info, Options{}, func(string, int) (rawDevice, error) { return nil, os.ErrPermission })
	if !errors.Is(err, ErrNeedAdmin) || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("no rights: %v", err)
	}
}
