package builder

import (
	"testing"

	"travelkit/boot"
	"travelkit/kit"
)

// The pages written by a change (key change, refresh, remote add) keep what the build's
// said: the off-site copy, and the boot section of a kit that carries a boot bundle.
func TestRestoreInfoOfManifest(t *testing.T) {
	m := &kit.Manifest{KitID: "k", OffSite: true, Files: []kit.File{{Path: "RESTORE.en.txt"}, {Path: boot.ShimPath}}}
	if info := restoreInfoOf(m); !info.Boot || !info.OffSite {
		t.Fatalf("boot %v, off-site %v", info.Boot, info.OffSite)
	}
	if info := restoreInfoOf(&kit.Manifest{KitID: "k"}); info.Boot || info.OffSite {
		t.Fatalf("a plain kit: boot %v, off-site %v", info.Boot, info.OffSite)
	}
}
