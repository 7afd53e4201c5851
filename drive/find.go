package drive

import (
	"errors"

	"travelkit/kit"
	"travelkit/target"
)

// Found is a kit drive found on this machine.
type Found struct {
	Path  string
	KitID string // from the tools partition's manifest, when readable
	Size  int64
	Model string
}

// diskSource is where Find looks: the machine's disks; tests give others.
type diskSource struct {
	list    func() ([]string, error)
	inspect func(string) (*target.Info, error)
	open    func(string, target.Options) (*target.Target, error)
}

var machineDisks = diskSource{list: target.ListDisks, inspect: target.Inspect, open: target.Open}

// Find looks at every disk of the machine (never the system disk) for the travelkit
// layout. needAdmin is set when some disks could not be read for lack of rights
// (Windows lists its disks to anyone, but only an Administrator reads them), so that
// "run as Administrator" and "no kit plugged in" are told apart.
func Find() (found []Found, needAdmin bool, err error) { return machineDisks.find() }

func (src diskSource) find() (found []Found, needAdmin bool, err error) {
	disks, err := src.list()
	if err != nil {
		return nil, false, err
	}
	for _, p := range disks {
		info, err := src.inspect(p)
		if err != nil {
			if errors.Is(err, target.ErrNeedAdmin) {
				needAdmin = true
			}
			continue
		}
		if info.System != "" {
			continue
		}
		tg, err := src.open(p, target.Options{})
		if err != nil {
			if errors.Is(err, target.ErrNeedAdmin) {
				needAdmin = true
			}
			continue
		}
		d, err := Open(tg)
		if err == nil {
			f := Found{Path: p, Size: info.Size, Model: info.Model}
			if fs, err := d.ToolsFS(); err == nil {
				if b, err := fs.ReadFile(kit.ManifestName, kit.MaxManifestSize); err == nil {
					if m, err := kit.ParseManifest(b); err == nil {
						f.KitID = m.KitID
					}
				}
			}
			found = append(found, f)
		}
		tg.Close()
	}
	return found, needAdmin, nil
}
