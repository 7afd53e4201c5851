package target

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestSparseByFileSystem(t *testing.T) {
	for fs, want := range map[int64]bool{0xef53: true, 0x01021994: true, 0x9123683e: true, linuxMsdosMagic: false, linuxExfatMagic: false, linuxHFSPlusMagic: false} {
		if got := linuxSparse(fs); got != want {
			t.Errorf("linux f_type %#x: %v", fs, got)
		}
	}
	for fs, want := range map[string]bool{"apfs": true, "hfs": false, "msdos": false, "exfat": false} {
		if got := darwinSparse(fs); got != want {
			t.Errorf("darwin %s: %v", fs, got)
		}
	}
	// GetVolumeInformation flags: NTFS (with FILE_SUPPORTS_SPARSE_FILES), FAT32 (without)
	if !windowsSparse(0x03e706ff) || windowsSparse(0x00c50006) {
		t.Error("windows volume flags")
	}
}

// On Windows the new image file is marked sparse (FSCTL_SET_SPARSE) while still empty,
// before it is given its size.
func TestSetSparseBeforeSize(t *testing.T) {
	f := newFakeWindows(true)
	f.neededRights(fsctlSetSparse, winGenericWrite)
	h, err := f.CreateFile(`\\.\E:`, winGenericRead|winGenericWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := setSparse(f, h); err != nil {
		t.Fatal(err)
	}
	ro, _ := f.CreateFile(`\\.\E:`, winGenericRead)
	if err := setSparse(f, ro); err == nil {
		t.Error("FSCTL_SET_SPARSE on a handle without write access succeeded")
	}
}

// A new image file is sparse where its file system can be, and the plan says which.
func TestNewImageSparse(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kit.img")
	info, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Sparse != sparseSupported(dir) {
		t.Errorf("Inspect says sparse %v, the file system %v", info.Sparse, sparseSupported(dir))
	}
	if runtime.GOOS == "linux" && !info.Sparse {
		t.Errorf("a new image in %s (tmpfs or ext4) is not sparse", dir)
	}
	tg, err := Open(p, Options{Write: true, CreateSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	st, err := os.Stat(p)
	if err != nil || st.Size() != 64<<20 {
		t.Fatalf("size %v %v", st, err)
	}
}
