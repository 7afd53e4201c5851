package kit

import (
	"fmt"
	"slices"
	"strings"
)

// Platforms returns the GOOS/GOARCH pairs a kit can carry a travelkit binary for (a new
// slice each time: the caller may change it).
func Platforms() []string {
	return []string{
		"linux/amd64", "linux/arm64",
		"darwin/amd64", "darwin/arm64",
		"windows/amd64", "windows/arm64",
	}
}

// ValidPlatform reports whether p is one of Platforms.
func ValidPlatform(p string) error {
	if all := Platforms(); !slices.Contains(all, p) {
		return fmt.Errorf("unknown platform %q: use one of %s", p, strings.Join(all, ", "))
	}
	return nil
}

// BinaryPath is where the travelkit binary for platform ("windows/amd64") lives on the tools
// partition: "bin/windows-amd64/travelkit.exe", "bin/linux-arm64/travelkit".
func BinaryPath(platform string) string {
	os, arch, _ := strings.Cut(platform, "/")
	name := "travelkit"
	if os == "windows" {
		name += ".exe"
	}
	return "bin/" + os + "-" + arch + "/" + name
}
