package builder

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFindBinariesLayouts: `make dist` output, a kit's bin/ folder, a kit's root, and the
// folder of a travelkit running from a kit (a kit built from a kit carries every binary on).
func TestFindBinariesLayouts(t *testing.T) {
	platforms := []string{"linux/arm64", "windows/arm64", "darwin/amd64"}
	mk := func(root string, paths ...string) {
		for _, p := range paths {
			p = filepath.Join(root, p)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	dist := t.TempDir()
	mk(dist, "travelkit-linux-arm64", "travelkit-windows-arm64.exe", "travelkit-darwin-amd64")
	kitRoot := t.TempDir()
	mk(kitRoot, "bin/linux-arm64/travelkit", "bin/windows-arm64/travelkit.exe", "bin/darwin-amd64/travelkit")
	for name, dir := range map[string]string{
		"make dist":           dist,
		"kit root":            kitRoot,
		"kit bin/":            filepath.Join(kitRoot, "bin"),
		"running from a kit":  filepath.Join(kitRoot, "bin", "linux-arm64"),
		"running from a kit2": filepath.Join(kitRoot, "bin", "darwin-amd64"),
	} {
		bins, err := FindBinaries(platforms, []string{dir})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, b := range bins {
			if b.Platform != platforms[i] || b.Size == 0 {
				t.Fatalf("%s: %+v", name, b)
			}
		}
	}
	if _, err := FindBinaries([]string{"windows/arm64"}, []string{t.TempDir()}); err == nil {
		t.Fatal("a missing binary was not reported")
	}
}
