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

// Find looks at every disk of the machine (never the system disk) for the travelkit
// layout. needAdmin is set when some disks could not be read for lack of rights.
func Find() (found []Found, needAdmin bool, err error) {
	disks, err := target.ListDisks()
	if err != nil {
		return nil, false, err
	}
	for _, p := range disks {
		info, err := target.Inspect(p)
		if err != nil || info.System != "" {
			continue
		}
		tg, err := target.Open(p, target.Options{})
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
