package drive

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"travelkit/target"
)

// Discovery tells "not an Administrator" (disks listed but not readable, as on
// Windows without elevation) apart from "no kit plugged in".
func TestFindTellsNoRightsFromNoKit(t *testing.T) {
	blank := filepath.Join(t.TempDir(), "blank.img")
	if err := os.WriteFile(blank, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	denied := func(p string) (*target.Info, error) {
		return nil, fmt.Errorf("%s: %w: not running as Administrator", p, target.ErrNeedAdmin)
	}
	list := func() ([]string, error) { return []string{blank}, nil }

	found, needAdmin, err := diskSource{list: list, inspect: denied, open: target.Open}.find()
	if err != nil || len(found) != 0 || !needAdmin {
		t.Errorf("unreadable disks: found %v, needAdmin %v, err %v; want needAdmin", found, needAdmin, err)
	}
	found, needAdmin, err = diskSource{list: list, inspect: target.Inspect, open: target.Open}.find()
	if err != nil || len(found) != 0 || needAdmin {
		t.Errorf("a readable disk that is no kit: found %v, needAdmin %v, err %v", found, needAdmin, err)
	}
	system := func(p string) (*target.Info, error) { return &target.Info{Path: p, System: "/ is on it"}, nil }
	if found, needAdmin, _ = (diskSource{list: list, inspect: system, open: target.Open}).find(); len(found) != 0 || needAdmin {
		t.Errorf("the system disk: found %v, needAdmin %v", found, needAdmin)
	}
}
