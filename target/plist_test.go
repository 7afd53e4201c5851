package target

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzParsePlist: diskutil's property lists carry names and labels read from the drive
// (volume names, media names), so their parser gets hostile input: errors, never panics,
// no deep recursion and no allocation out of proportion to the input.
func FuzzParsePlist(f *testing.F) {
	files, _ := filepath.Glob("testdata/diskutil/*.plist")
	if len(files) == 0 {
		f.Fatal("no testdata/diskutil/*.plist")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(strings.Repeat("<array>", 40)))
	f.Add([]byte("<plist><dict><key>a</key><integer>99999999999999999999</integer><key>b</key><true/></dict></plist>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, err := parsePlist(data)
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20+64*uint64(len(data)) {
			t.Fatalf("%d bytes allocated for a %d-byte plist", a, len(data))
		}
		if err != nil {
			return
		}
		if m, ok := v.(map[string]any); ok {
			plistString(m, "DeviceIdentifier")
			plistInt(m, "Size")
			plistBool(m, "Internal")
		}
	})
}
