//go:build windows && wine

package winetest

import (
	"os"
	_ "unsafe" // go:linkname
)

// Go 1.26 removes files with NtSetInformationFile(FileDispositionInformationEx),
// which Wine 8.0 does not implement (STATUS_NOT_IMPLEMENTED, "Invalid
// function"), so os.RemoveAll and the cleanup of t.TempDir fail there. Go has
// a fallback for older Windows and for file systems such as FAT32
// (FileDispositionInfo), which Wine implements; this switch, meant by Go for
// its own tests, selects it. Linking it needs -ldflags=-checklinkname=0,
// which scripts/wine/gotest.sh passes. travelkit itself never calls RemoveAll.
//
//go:linkname deleteatFallback internal/syscall/windows.TestDeleteatFallback
var deleteatFallback bool

func init() {
	if os.Getenv("TRAVELKIT_WINE") == "1" {
		deleteatFallback = true
	}
}
