//go:build linux

package target

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// loopWithMountedExt4 attaches a loop device to a fresh file, makes ext4 on it and mounts it.
func loopWithMountedExt4(t *testing.T) (img, loop, mnt string) {
	dir := t.TempDir()
	img = filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	loop = run(t, "losetup", "--find", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	run(t, "mkfs.ext4", "-q", "-F", loop)
	mnt = filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	run(t, "mount", loop, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return img, loop, mnt
}

func TestMountedLoopDeviceRefused(t *testing.T) {
	img, loop, mnt := loopWithMountedExt4(t)
	before, _ := os.ReadFile(img)

	info, err := Inspect(loop)
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != BlockDevice || info.Size != 64<<20 || info.Transport != "loop" {
		t.Fatalf("info %+v", info)
	}
	var re *RefusedError
	if _, err := Open(loop, Options{Write: true}); !errors.As(err, &re) || !strings.Contains(err.Error(), "mounted at "+mnt) {
		t.Fatalf("mounted loop device: %v", err)
	}
	if !strings.Contains(re.Hint, "umount "+mnt) {
		t.Fatalf("hint %q", re.Hint)
	}
	// the image file behind it is refused as well
	if _, err := Open(img, Options{Write: true}); !errors.As(err, &re) || !strings.Contains(err.Error(), "mounted at "+mnt) {
		t.Fatalf("image behind a mounted loop device: %v", err)
	}
	// reading is allowed
	tg, err := Open(loop, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg.Close()
	after, _ := os.ReadFile(img)
	if string(before[:1<<20]) != string(after[:1<<20]) {
		t.Fatal("the device changed")
	}
	// after unmounting, writing is allowed (O_EXCL succeeds)
	run(t, "umount", mnt)
	tg, err = Open(loop, Options{Write: true})
	if err != nil {
		t.Fatalf("unmounted loop device: %v", err)
	}
	tg.Close()
}

func TestSystemDiskRefused(t *testing.T) {
	mounts, err := readMounts()
	if err != nil {
		t.Fatal(err)
	}
	roots := rootDisks(mounts)
	if len(roots) == 0 {
		t.Fatal("could not find the disk that holds / on this machine")
	}
	for disk := range roots {
		dev := "/dev/" + disk
		if _, err := os.Stat(dev); err != nil {
			t.Fatalf("%s: %v", dev, err)
		}
		_, err := Open(dev, Options{Write: true, AllowFixed: true})
		var re *RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "running system") {
			t.Fatalf("%s: %v", dev, err)
		}
		// even for reading: it is never a kit
		if _, err := Open(dev, Options{}); !errors.As(err, &re) {
			t.Fatalf("%s read: %v", dev, err)
		}
	}
}

func TestImageFileTargets(t *testing.T) {
	dir := t.TempDir()
	var re *RefusedError
	// a directory
	if _, err := Open(dir, Options{Write: true, CreateSize: 1 << 20}); !errors.As(err, &re) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	// absent without --size: refused, nothing created
	p := filepath.Join(dir, "kit.img")
	if _, err := Open(p, Options{Write: true}); !errors.As(err, &re) || !strings.Contains(re.Hint, "--size") {
		t.Fatalf("absent: %v", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("file created on refusal")
	}
	// absent with a size: created sparse
	tg, err := Open(p, Options{Write: true, CreateSize: 64 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.WriteAt([]byte("x"), 1<<30); err != nil {
		t.Fatal(err)
	}
	tg.Close()
	st, _ := os.Stat(p)
	if st.Size() != 64<<30 {
		t.Fatalf("size %d", st.Size())
	}
	if used := usedBytes(st); used > 1<<20 {
		t.Fatalf("not sparse: %d bytes used", used)
	}
	// a partition of a disk is refused with the whole disk named
	info, err := Inspect(p)
	if err != nil || !info.Exists || info.Size != 64<<30 {
		t.Fatalf("%+v %v", info, err)
	}
}
