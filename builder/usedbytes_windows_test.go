package builder_test

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// usedBytes is the disk space a (sparse) file really uses: the AllocationSize of its
// FILE_STANDARD_INFO, the clusters NTFS allocated to it (a file not marked sparse takes
// its whole size, which is what this catches; under Wine, the host file's blocks).
// GetCompressedFileSizeW would tell the same on Windows, but Wine 8.0 answers it with the
// file's size.
func usedBytes(t *testing.T, path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var info struct { // FILE_STANDARD_INFO
		AllocationSize, EndOfFile int64
		NumberOfLinks             uint32
		DeletePending, Directory  bool
	}
	if err := windows.GetFileInformationByHandleEx(windows.Handle(f.Fd()), windows.FileStandardInfo,
		(*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		t.Fatalf("%s: GetFileInformationByHandleEx: %v", path, err)
	}
	return info.AllocationSize
}
